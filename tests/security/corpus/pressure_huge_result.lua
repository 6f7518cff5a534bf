-- expect: memory
-- promise: 6
local ok, r = pcall(Tool.execute, "big_result", {n = 1, size = 40000000}) return ok
