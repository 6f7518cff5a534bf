-- Hello from llmspell: the smallest useful script.
--
--   llmspell run scripts/examples/00-hello.lua
--   llmspell --output json run scripts/examples/00-hello.lua   (one JSON object; "value" is the
--                                                               table this script returns)
--
-- Shows: print, string formatting, tables, and a script's return value.

print("Hello from llmspell!")
print(("Running on %s, in a sandbox."):format(_VERSION))

local planets = { "Mercury", "Venus", "Earth" }
print(("The first %d planets: %s."):format(#planets, table.concat(planets, ", ")))

-- A script may return a value; `--output json` reports it, and Host.run() hands it to Python.
return { greeting = "hello", planets = #planets }
