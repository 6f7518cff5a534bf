-- expect: runtime
-- promise: 2
return python.builtins.getattr
