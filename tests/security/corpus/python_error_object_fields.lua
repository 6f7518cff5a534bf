-- expect: ok
-- promise: 2
-- value: ["nil", "nil", "nil", "nil"]
local ok, e = pcall(Tool.execute, "no-such-tool", {})
local probes = {}
for _, key in ipairs({"__class__", "__traceback__", "args", "__dict__"}) do
  local ok2, v = pcall(function() return e[key] end)
  probes[#probes + 1] = type(v)
end
return probes
