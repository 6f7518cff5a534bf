-- expect: memory
-- promise: 6
local keep = {} while collectgarbage("count") < 15500 do keep[#keep + 1] = ("z"):rep(1000 + #keep) end
for i = 1, 100 do pcall(Tool.execute, "echo", {x = i}) end return #keep
