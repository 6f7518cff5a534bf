-- expect: memory
-- promise: 6
local keep = {} while collectgarbage("count") < 15500 do keep[#keep + 1] = ("z"):rep(1000 + #keep) end
pcall(sleep, 0.01) return #keep
