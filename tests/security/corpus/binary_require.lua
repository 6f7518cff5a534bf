-- expect: sandbox_violation
-- promise: 8
return require("lib.bytecode")
