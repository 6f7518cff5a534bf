-- State that survives between runs.
--
--   llmspell run scripts/examples/state-between-runs.lua -- --name Ada
--   llmspell run scripts/examples/state-between-runs.lua
--   llmspell state show --scope custom:examples
--
-- Every run counts itself and keeps the last five visitors. Values are saved in the llmspell
-- database (the user data folder, or [storage] path in the config), so the next run sees them.

local SCOPE = "custom:examples"
local name = ARGS.name or "world"

local count = State.load(SCOPE, "run_count") or 0
count = count + 1
State.save(SCOPE, "run_count", count)

local visitors = State.load(SCOPE, "visitors") or {}
table.insert(visitors, { name = name, at = os.date("!%Y-%m-%dT%H:%M:%SZ") })
while #visitors > 5 do
  table.remove(visitors, 1)
end
State.save(SCOPE, "visitors", visitors)

-- State.get / State.set use the "global" scope.
local previous = State.get("last_visitor")
State.set("last_visitor", name)

print(("Hello, %s! This script has run %d time(s)."):format(name, count))
if previous then
  print(("The previous visitor was %s."):format(previous))
end
print("Recent visitors:")
for i, visitor in ipairs(visitors) do
  print(("  %d. %s at %s"):format(i, visitor.name, visitor.at))
end
print("Keys in " .. SCOPE .. ": " .. table.concat(State.list_keys(SCOPE), ", "))
