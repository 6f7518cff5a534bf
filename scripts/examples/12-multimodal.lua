-- Multimodal input: give an agent an image with its question.
--
--   llmspell --config scripts/examples/configs/multimodal.toml run scripts/examples/12-multimodal.lua
--
-- Media.image{path = ...} checks the file against the run's read permissions ([security]
-- file_read_roots) and the size limits; the image goes to the model as a content part. A model
-- without vision refuses images with a ValidationError before anything is sent. Run from the
-- repository root (the config allows reading scripts/examples/assets).
--
-- test-config: scripts/examples/configs/multimodal.toml

local folder = (ARGS[0] or ""):match("^(.*)/[^/]*$") or "."
local ok, image = pcall(Media.image, {path = folder .. "/assets/red-square.png"})
if not ok then
  print(image)   -- PermissionDenied without file_read_roots: run with the config above
  os.exit(1)
end
print(("image: %s, %s"):format(image.format, image.path))

local function describe(agent)
  print(("%s: vision %s, accepts %s"):format(agent.name, tostring(agent:supports_multimodal()),
    table.concat(agent:supported_media_types(), ", ")))
  local ok, out = pcall(agent.execute, agent, {
    text = "What is in this picture? One sentence.",
    media = { image },
  })
  if ok then
    print("  answer: " .. out.text)
  else
    print("  refused: " .. out)
  end
end

describe(Agent.create{name = "looker"})                       -- the default provider
if Provider.isAvailable("blind") then
  describe(Agent.create{name = "text-only", provider = "blind"})
end
