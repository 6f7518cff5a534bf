-- expect: runtime
-- promise: 8
return string.dump(function() end)
