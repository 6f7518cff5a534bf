-- Modules: split a script into files and load them with require.
--
--   llmspell run scripts/examples/06-modules/main.lua
--
-- require("lib.text") loads lib/text.lua next to this script (a dotted name is a path;
-- require("lib.shapes") would also find lib/shapes/init.lua). Modules are searched in the
-- script's own folder, then in the folders listed in [runtime] library_paths; nothing else on
-- disk is reachable, and a module is loaded once: later requires return the same value.

local text = require("lib.text")
local stats = require("lib.stats")

local sample = "the quick brown fox jumps over the lazy dog the end"

print("title case: " .. text.title(sample))
print("word count: " .. #text.words(sample))

local counts = stats.frequencies(text.words(sample))
local top = stats.top(counts, 2)
for i, entry in ipairs(top) do
  print(("top %d:      %q x%d"):format(i, entry.value, entry.count))
end

-- A module is loaded once and cached in package.loaded.
print("cached:     " .. tostring(require("lib.text") == text and package.loaded["lib.text"] == text))
-- lib/stats.lua itself requires lib/text.lua: both see the same table.
print("shared:     " .. tostring(stats.text_module == text))
