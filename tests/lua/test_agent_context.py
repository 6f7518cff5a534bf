"""Context-window management through the Agent global: long chats summarise themselves."""

from __future__ import annotations

from llmspell import Host

SUMMARY = "The guest toured the sights; the tour ends at the harbour."
CONFIG = {
    "default_provider": "s",
    "storage": {"backend": "memory"},
    "providers": {
        "s": {
            "provider_type": "scripted",
            "options": {
                "echo": True,
                "replies": [{"match": "user: ", "times": 50, "text": SUMMARY}],
            },
        }
    },
}

CHAT = """
local events = Event.subscribe("agent.context.summarized")
local guide = Agent.create{name = "guide", prompt = "Be a guide.", context = %s}
local tokens = {}
for i = 1, 10 do
  tokens[i] = guide:execute("Stop " .. i .. ": tell me about the place number " .. i .. ".")
    .metadata.input_tokens
end
local count = 0
while Event.receive(events, 0) do count = count + 1 end
return {tokens = tokens, summaries = count, history = #guide:get_history()}
"""


def test_long_chat_summarises_itself_and_stays_under_the_window():
    result = Host(CONFIG).run(CHAT % "{max_context_tokens = 80, keep_last_turns = 1}")
    assert result.status == "ok", result.error
    value = result.value
    assert value["summaries"] >= 2
    assert max(value["tokens"]) <= 80
    assert value["history"] == 20  # the agent keeps its full history; requests are condensed


def test_context_management_can_be_disabled():
    result = Host(CONFIG).run(CHAT % "{enabled = false, max_context_tokens = 90}")
    assert result.status == "ok", result.error
    assert result.value["summaries"] == 0
    assert max(result.value["tokens"]) > 90


def test_summarize_by_hand():
    result = Host(CONFIG).run(
        'local a = Agent.create{name = "a", context = {max_context_tokens = 4000}} '
        'a:execute("first question") a:execute("second question") '
        "local kept = a:summarize() return {#kept, kept[#kept].content}"
    )
    assert result.status == "ok", result.error
    count, last = result.value
    assert count >= 2
    assert isinstance(last, str)
