-- expect: ok
-- promise: 2
-- value: [false, "string"]
local ok, e = pcall(Tool.execute, "no-such-tool", {}) return {ok, type(e)}
