-- expect: runtime
-- promise: 2
return JSON.stringify(coroutine.create(function() end))
