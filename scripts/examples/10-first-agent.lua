-- Your first agent: ask a model one question, print its answer and what the call cost.
--
--   llmspell run scripts/examples/10-first-agent.lua
--   llmspell run scripts/examples/10-first-agent.lua -- --question "What is Lua?"
--   llmspell run --stream scripts/examples/10-first-agent.lua     (tokens as they arrive)
--
-- With no configuration and no API key, the agent runs on the local model (SmolLM2-135M, about
-- 100 MB, fetched on first use with a progress bar; `llmspell model pull smollm2` fetches it
-- now). With an API key in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) or a
-- default_provider in llmspell.toml, the same script uses that model: nothing here names one.
--
-- test-config: scripts/examples/configs/scripted-agent.toml

local question = ARGS.question or "What is the capital of France? Answer in one sentence."

local agent = Agent.builder()
  :name("first-agent")
  :system_prompt("You are a helpful assistant. Answer briefly.")
  :temperature(0)
  :max_tokens(64)
  :build()

local out = agent:execute(question)
local meta = out.metadata

print("Q: " .. question)
print("A: " .. out.text)
print(("model: %s/%s"):format(meta.provider, meta.model))
print(("tokens: %d in, %d out, %d total"):format(meta.input_tokens, meta.output_tokens,
  meta.total_tokens))
local cost = meta.cost_usd and ("$%.6f"):format(meta.cost_usd) or "unknown"
print(("time: %.0f ms, cost: %s, finish: %s"):format(meta.duration_ms, cost,
  tostring(meta.finish_reason)))
