-- Sessions and artifacts: keep what a piece of work produces, and find it again later.
--
--   llmspell run scripts/examples/session-artifacts.lua
--   llmspell run --session research scripts/examples/session-artifacts.lua
--   llmspell session show research
--
-- With --session NAME the run works in that session (created the first time); without it,
-- the script uses the session called "research", created on the first run. Artifacts are
-- content-addressed: identical content is stored once.

local id = Session.get_current()
if id == nil then
  local existing = Session.get("research") -- by id or by name; nil when there is none
  id = existing and existing.id
    or Session.create({ name = "research", description = "example session", tags = { "example" } })
  Session.set_current(id)
end
local session = Session.get(id)
print(("Session %s (%s), %d artifact(s) so far"):format(session.name, session.status, session.artifact_count))

-- Text, structured data (as JSON) and binary content: all are Lua strings.
local notes = Artifact.store(id, "text", "notes.md", "# Findings\n\n- sessions group work\n", {
  tags = { "draft" },
})
local data = Artifact.store(id, "json", "numbers.json", JSON.stringify({ 3, 1, 4, 1, 5 }))
local pixel = Artifact.store(id, "image", "pixel.bin", "\137PNG\r\n\26\n\0\0\0\13")
print(("Stored notes.md as #%d, numbers.json as #%d, pixel.bin as #%d"):format(
  notes.sequence, data.sequence, pixel.sequence))

-- Storing the same content again adds an artifact but not a second copy of its bytes.
local copy = Artifact.store(nil, "text", "notes-copy.md", "# Findings\n\n- sessions group work\n")
print("Same content, same hash: " .. tostring(copy.content_hash == notes.content_hash))

-- Read back, list and query.
local numbers = JSON.parse(Artifact.get(id, data.sequence).content)
print("numbers.json holds " .. #numbers .. " numbers")
print(("pixel.bin is %d bytes"):format(#Artifact.get(id, pixel.sequence).content))
local drafts = Artifact.query({ session_id = id, tags = { "draft" } })
print(("%d draft(s) in this session"):format(#drafts))
print("Stored by this run:")
for _, artifact in ipairs(Artifact.list(id)) do
  if artifact.sequence >= notes.sequence then
    print(("  #%d %-14s %-6s %4d bytes"):format(artifact.sequence, artifact.name, artifact.type, artifact.size))
  end
end

-- Session-scoped State lives and dies with the session.
local runs = (State.load("session:" .. id, "runs") or 0) + 1
State.save("session:" .. id, "runs", runs)
print(("This session has been used by %d run(s)"):format(runs))
