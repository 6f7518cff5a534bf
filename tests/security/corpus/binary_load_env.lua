-- expect: sandbox_violation
-- promise: 8
return assert(load(string.char(27) .. "LuaT\0\25\147\r\n\26\n\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64", "x", "bt", {}))
