-- A long chat that summarises itself. The agent's context window is set tiny (90 tokens), so
-- after a few turns the older turns are replaced by a summary (and later by a summary of the
-- summary), keeping the system prompt, the last turn and the pinned facts.
--
--   llmspell --config scripts/examples/configs/long-chat.toml run scripts/examples/23-long-chat-summarizes.lua
--
-- With a real model, leave `max_context_tokens` out: the window is the model's own, and the
-- summary starts at 80% of it.
--
-- test-config: scripts/examples/configs/long-chat.toml

local summaries = Event.subscribe("agent.context.summarized")

local guide = Agent.create{
  name = "guide",
  prompt = "You are a patient tour guide.",
  context = { max_context_tokens = 90, keep_last_turns = 1, pinned = { "The tour ends at the harbour." } },
}

local stops = { "the old market", "the cathedral", "the castle walls", "the botanical garden",
  "the river bridge", "the museum of maps", "the lighthouse" }
for i, stop in ipairs(stops) do
  local reply = guide:execute("Stop " .. i .. ": tell me something about " .. stop .. ".")
  print(("turn %d: %d tokens in, history of %d messages"):format(
    i, reply.metadata.input_tokens, #guide:get_history()))
end

local count = 0
while Event.receive(summaries, 0) do
  count = count + 1
end
print(("the conversation was summarised %d time(s) on its own"):format(count))

local by_hand = guide:summarize()
print(("a summary by hand keeps %d message(s)"):format(#by_hand))
