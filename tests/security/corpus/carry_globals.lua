-- expect: ok
-- promise: 9
-- after: return x_global == nil and getmetatable ~= nil and pairs ~= nil and JSON.parse ~= nil
x_global = 1 getmetatable = nil pairs = nil JSON.parse = nil return 1
