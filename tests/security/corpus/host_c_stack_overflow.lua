-- expect: runtime
-- promise: 11
local co co = coroutine.wrap(function() return co() end) return co()
