-- Streaming: an agent's answer arrives chunk by chunk, as the model writes it.
--
--   llmspell run scripts/examples/11-streaming-agent.lua
--
-- Three ways to stream, one mechanism underneath: a for loop over stream_execute, a callback
-- with invokeStream, and execute with a `stream` callback (which also returns the usual output).
-- Runs on the default provider (the local model when nothing is configured).
--
-- test-config: scripts/examples/configs/streaming.toml

local agent = Agent.create{
  name = "storyteller",
  prompt = "You tell very short stories.",
  temperature = 0,
  max_tokens = 48,
}

-- 1. A for loop: each chunk as soon as it is written. chunk.text is nil on non-text chunks.
print("-- stream_execute")
local chunks = 0
for chunk in agent:stream_execute("Tell a one-line story about a robot.") do
  if chunk.text then
    io.write(chunk.text)
  elseif chunk.content.type == "control" then
    print(("\n[%d chunks, %d tokens]"):format(chunks, chunk.content.data.total_tokens))
  end
  chunks = chunks + 1
end

-- 2. A callback; the result counts the chunks and holds the whole text.
print("-- invokeStream")
local result = agent:invokeStream("And how did it end?", function(chunk)
  if chunk.text then io.write(chunk.text) end
end)
print(("\n[%d chunks, success: %s]"):format(result.chunks_received, tostring(result.success)))

-- 3. execute with a stream callback: streamed, and the usual output table at the end.
print("-- execute{stream}")
local out = agent:execute("One more line, please.", {
  stream = function(chunk)
    if chunk.text then io.write(chunk.text) end
  end,
})
print(("\n[%s, %.0f ms]"):format(out.metadata.finish_reason, out.metadata.duration_ms))
print(("the agent remembers %d messages"):format(#agent:get_history()))
