-- Several providers in one configuration, and agents on each of them.
--
--   llmspell mock-server --port 8089 &        (any OpenAI-compatible server will do)
--   llmspell --config scripts/examples/configs/multi-provider.toml run scripts/examples/13-multi-provider.lua
--
-- Provider.list() describes every provider the configuration offers; an agent picks one with
-- model = "<provider>/<model>". The "mock" entry talks to a real HTTP server through the native
-- OpenAI-compatible backend; when none is running, its call fails and the script says so.
--
-- test-config: scripts/examples/configs/multi-provider.toml

for _, p in ipairs(Provider.list()) do
  local caps = p.capabilities
  print(("%-28s streaming=%s vision=%s available=%s"):format(p.name,
    tostring(caps.supports_streaming), tostring(caps.supports_multimodal),
    tostring(Provider.isAvailable(p.provider))))
end

local agents = {
  Agent.create{name = "local-script", model = "scripted/scripted-model"},
  Agent.create{name = "over-http", model = "mock/mock-model"},
}
for _, agent in ipairs(agents) do
  local ok, out = pcall(agent.execute, agent, "Say hello in five words.")
  if ok then
    print(("%s (%s/%s): %s"):format(agent.name, out.metadata.provider, out.metadata.model,
      out.text))
  else
    print(("%s: not reachable (%s)"):format(agent.name, out))
    print("  start a server with: llmspell mock-server --port 8089")
  end
end
