-- expect: memory
-- promise: 6
local keep = {} while collectgarbage("count") < 12000 do keep[#keep + 1] = ("z"):rep(1000 + #keep) end
local ok, r = pcall(Tool.execute, "big_result", {n = 50000}) return ok
