-- expect: memory
-- promise: 5
spawn(function() local t = {} while true do t[#t + 1] = {} end end) sleep(1)
