-- Command-line arguments: ARGS and arg.
--
--   llmspell run scripts/examples/01-arguments.lua -- Ada Grace --greeting Hello --shout
--
-- Words after `--` reach the script (the general shape is `-- a --k v --flag`):
--   * positional words are ARGS[1], ARGS[2], ... and also arg[1], arg[2], ...
--   * `--key value` and `--key=value` set ARGS.key = "value"
--   * a `--flag` followed by nothing (or by another --option) sets ARGS.flag = "true"
--   * ARGS[0] and arg[0] hold the script's name
-- Every value is a string. Run it without arguments to see the defaults.
--
-- test-args: -- Ada Grace --greeting Hello --shout

print("script:     " .. ARGS[0])
print("positional: " .. #arg)

local greeting = ARGS.greeting or "Hi"
local names = {}
for i = 1, #arg do
  names[#names + 1] = arg[i]
end
if #names == 0 then
  names = { "world" }
end

for _, name in ipairs(names) do
  local line = ("%s, %s!"):format(greeting, name)
  if ARGS.shout == "true" then
    line = line:upper()
  end
  print(line)
end

-- ARGS holds both kinds: list the named ones in a stable order.
local keys = {}
for key in pairs(ARGS) do
  if type(key) == "string" then
    keys[#keys + 1] = key
  end
end
table.sort(keys)
for _, key in ipairs(keys) do
  print(("option --%s = %q"):format(key, ARGS[key]))
end
