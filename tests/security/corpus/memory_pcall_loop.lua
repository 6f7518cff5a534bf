-- expect: memory
-- promise: 5
local keep = {} while true do pcall(function() while true do keep[#keep + 1] = ("y"):rep(1024) .. #keep end end) end
