-- expect: memory
-- promise: 5
local keep = {} local co = coroutine.create(function() while true do keep[#keep + 1] = {} end end) while true do coroutine.resume(co) end
