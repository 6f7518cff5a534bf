-- JSON: parse, build, stringify; nulls and empty arrays.
--
--   llmspell run scripts/examples/02-json.lua
--
-- Shows JSON.parse / JSON.stringify (aliases JSON.decode / JSON.encode), pretty output,
-- JSON.null for an explicit null, JSON.array for an empty array, and the ValidationError that
-- invalid JSON raises.

local text = [[
{
  "project": "llmspell",
  "version": 1,
  "ratio": 0.5,
  "tags": ["lua", "sandbox"],
  "owner": null,
  "limits": {"cpu_seconds": 30, "memory_mb": 64}
}
]]

-- Parse: objects become tables with string keys, arrays become 1-based lists.
local doc = JSON.parse(text)
print("project:  " .. doc.project)
print("tags:     " .. table.concat(doc.tags, ", "))
print("memory:   " .. doc.limits.memory_mb .. " MiB")
-- Integers stay integers and floats stay floats.
print("types:    version is an " .. math.type(doc.version) .. ", ratio is a " .. math.type(doc.ratio))
-- A JSON null is JSON.null (a Lua nil would make the key disappear).
print("owner:    " .. tostring(doc.owner) .. " (is JSON.null: " .. tostring(doc.owner == JSON.null) .. ")")

-- Stringify: keys come out sorted, so the output is stable.
local report = {
  name = "report",
  counts = { 3, 1, 2 },
  empty_list = JSON.array(), -- without JSON.array an empty table is an object: {}
  empty_object = {},
  missing = JSON.null,
}
print("compact:  " .. JSON.stringify(report))
print("pretty:")
print(JSON.stringify({ ok = true, items = { "a", "b" } }, { pretty = true }))

-- A round trip keeps the data.
local again = JSON.parse(JSON.stringify(doc))
print("round trip keeps tags: " .. tostring(again.tags[2] == "sandbox"))

-- Invalid JSON raises a ValidationError that says where the text went wrong.
local ok, err = pcall(JSON.parse, '{"unterminated": ')
print("invalid:  ok=" .. tostring(ok) .. ", " .. err)
