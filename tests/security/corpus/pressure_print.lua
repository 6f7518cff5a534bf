-- expect: ok
-- promise: 6
-- value: "done"
local keep = {} while collectgarbage("count") < 15500 do keep[#keep + 1] = ("z"):rep(1000 + #keep) end
print("still printing") return "done"
