from __future__ import annotations

from typing import Any

import pytest

from llmspell.agents.context import (
    PINNED_PREFIX,
    SUMMARY_PREFIX,
    ContextManager,
    ContextSettings,
    ProviderSummarizer,
    context_window,
    estimate_tokens,
)
from llmspell.core.errors import ProviderError, ValidationError
from llmspell.core.types import Capabilities, ChatMessage, ToolCall
from llmspell.events import EventBus
from llmspell.providers.scripted import ScriptedProvider
from llmspell.state.conversations import ConversationStore
from llmspell.state.sessions import SessionStore
from llmspell.state.store import open_store

SYSTEM = ChatMessage.system("Be brief.")


def user(n: int) -> ChatMessage:
    return ChatMessage.user(f"question number {n} about the weather in Paris")


def reply(n: int) -> ChatMessage:
    return ChatMessage.assistant(f"answer number {n}: it is sunny in Paris today")


def manager(
    summaries: list[str],
    *,
    window: int = 60,
    keep: int = 1,
    events: EventBus | None = None,
    **options: Any,
) -> tuple[ContextManager, ScriptedProvider]:
    provider = ScriptedProvider(summaries)
    settings = ContextSettings(max_context_tokens=window, keep_last_turns=keep)
    summarizer = ProviderSummarizer(provider, "summary-model")
    return ContextManager(summarizer, settings, events=events, **options), provider


async def chat(cm: ContextManager, turns: int) -> list[list[ChatMessage]]:
    """Drive a conversation that keeps its full history, as an agent does."""
    history: list[ChatMessage] = []
    sent = []
    for n in range(1, turns + 1):
        prepared = await cm.prepare([SYSTEM, *history, user(n)], None)
        sent.append(prepared)
        history += [user(n), reply(n)]
    return sent


def texts(messages: list[ChatMessage]) -> list[str]:
    return [m.text for m in messages]


async def test_under_the_threshold_messages_go_out_unchanged() -> None:
    cm, provider = manager([], window=1000)
    messages = [SYSTEM, user(1), reply(1), user(2)]
    assert await cm.prepare(messages, None) == messages
    assert provider.requests == []


async def test_multi_level_summarisation_with_a_tiny_window() -> None:
    bus = EventBus()
    sub = bus.subscribe("agent.context.*")
    cm, provider = manager(["summary one", "summary two", "summary three"], events=bus)
    cm.agent_name = "chatty"
    sent = await chat(cm, 4)

    assert texts(sent[0]) == texts([SYSTEM, user(1)])
    assert texts(sent[1]) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nsummary one", user(2).text]
    assert texts(sent[2]) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nsummary two", user(3).text]
    assert texts(sent[3]) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nsummary three", user(4).text]
    for prepared in sent:
        assert cm.total_tokens(prepared) <= cm.threshold_tokens

    first, second = provider.requests[0], provider.requests[1]
    assert first.model == "summary-model"
    assert "question number 1" in first.messages[1].text
    assert "summary one" not in first.messages[1].text
    assert "(summary of what came before) summary one" in second.messages[1].text
    assert "question number 2" in second.messages[1].text
    assert "question number 1" not in second.messages[1].text

    chain = cm.chain()
    assert [step["level"] for step in chain] == [1, 2, 3]
    assert [m["content"] for m in chain[0]["replaced"]] == [user(1).text, reply(1).text]
    assert chain[1]["replaced"][0]["content"] == f"{SUMMARY_PREFIX}\nsummary one"
    assert chain[1]["covered"] == 4
    assert all(step["tokens_after"] < step["tokens_before"] for step in chain)

    events = [await bus.receive(sub, 0) for _ in range(3)]
    assert [e["data"]["level"] for e in events if e] == [1, 2, 3]
    data = events[0]["data"] if events[0] else {}
    assert data["agent"] == "chatty" and data["replaced_messages"] == 2
    assert data["manual"] is False and data["persisted"] is False


async def test_summary_in_the_incoming_messages_is_built_upon() -> None:
    """A caller that keeps the prepared messages as its history gets level 2 the same way."""
    cm, _ = manager(["summary one", "summary two"])
    history: list[ChatMessage] = []
    for n in range(1, 4):
        prepared = await cm.prepare([SYSTEM, *history, user(n)], None)
        history = [*prepared[1:], reply(n)]
    assert [step["level"] for step in cm.chain()] == [1, 2]
    assert texts(history[:1]) == [f"{SUMMARY_PREFIX}\nsummary two"]


async def test_keeps_the_last_turns_with_their_tool_calls() -> None:
    cm, _ = manager(["older stuff"], window=200, keep=2)
    call = ToolCall(id="c1", name="calculator", arguments={"input": "2+2"}, raw_arguments="")
    messages = [
        SYSTEM,
        user(1),
        reply(1),
        user(2),
        ChatMessage.assistant(None, [call]),
        ChatMessage.tool("c1", "4", name="calculator"),
        reply(2),
        user(3),
    ]
    prepared = await cm.summarize(messages)
    assert prepared[2:] == messages[3:]
    assert prepared[1].text == f"{SUMMARY_PREFIX}\nolder stuff"


async def test_nothing_older_than_the_kept_turns_means_no_summary() -> None:
    cm, provider = manager([], window=20, keep=2)
    messages = [SYSTEM, user(1), reply(1), user(2)]
    assert await cm.prepare(messages, None) == messages
    assert provider.requests == [] and cm.chain() == []


async def test_pinned_facts_are_kept_and_never_summarised() -> None:
    cm, provider = manager(["summary one"])
    cm.pin("The user's name is Ada.")
    cm.pin("The user's name is Ada.")
    sent = await chat(cm, 2)
    assert sent[0][1].text == f"{PINNED_PREFIX}\n- The user's name is Ada."
    assert texts(sent[1])[:3] == [
        SYSTEM.text,
        f"{PINNED_PREFIX}\n- The user's name is Ada.",
        f"{SUMMARY_PREFIX}\nsummary one",
    ]
    assert "Ada" not in provider.requests[0].messages[1].text
    assert cm.unpin("The user's name is Ada.") is True
    assert cm.pinned() == []


async def test_summarize_by_hand_under_the_threshold() -> None:
    bus = EventBus()
    sub = bus.subscribe("agent.context.summarized")
    cm, _ = manager(["by hand"], window=10_000, events=bus)
    prepared = await cm.summarize([SYSTEM, user(1), reply(1), user(2)])
    assert texts(prepared) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nby hand", user(2).text]
    event = await bus.receive(sub, 0)
    assert event is not None and event["data"]["manual"] is True
    assert cm.chain()[0]["manual"] is True


async def test_reported_usage_replaces_the_estimate() -> None:
    cm, provider = manager(["summary"], window=600)
    prompt = [SYSTEM, user(1)]
    estimates = [estimate_tokens(m) for m in prompt]
    cm.record_usage(prompt, 500, reply(1), 40)
    counts = [cm.count_tokens(m) for m in prompt]
    assert sum(counts) == 500
    assert counts[1] > counts[0]
    assert counts != estimates
    assert cm.count_tokens(reply(1)) == 40
    prepared = await cm.prepare([*prompt, reply(1), user(2)], None)
    assert prepared[1].text.startswith(SUMMARY_PREFIX)
    assert len(provider.requests) == 1


async def test_summaries_are_persisted_in_the_session_conversation() -> None:
    with open_store(memory=True) as store:
        session = SessionStore(store).create("chat")["id"]
        conversations = ConversationStore(store)
        cm, _ = manager(
            ["summary one", "summary two"],
            agent_name="writer",
            conversations=conversations,
            session_id=session,
        )
        history: list[ChatMessage] = []
        for n in range(1, 4):
            await cm.prepare([SYSTEM, *history, user(n)], None)
            turn = [user(n), reply(n)]
            history += turn
            conversations.append(session, "writer", [m.model_dump(exclude_none=True) for m in turn])
        entries = conversations.entries(session, "writer")
        summaries = [e for e in entries if e["kind"] == "summary"]
        assert [s["replaces_until"] for s in summaries] == [2, 5]
        assert [step["persisted_seq"] for step in cm.chain()] == [s["seq"] for s in summaries]
        loaded = conversations.load(session, "writer")
        assert [m["content"] for m in loaded] == [
            f"{SUMMARY_PREFIX}\nsummary two",
            user(3).text,
            reply(3).text,
        ]


async def test_snapshot_and_restore_keep_the_chain() -> None:
    cm, _ = manager(["summary one"])
    cm.pin("fact")
    await chat(cm, 2)
    copy, provider = manager([])
    copy.restore(cm.snapshot())
    assert copy.chain() == cm.chain() and copy.pinned() == ["fact"]
    prepared = await copy.prepare([SYSTEM, user(1), reply(1), user(2)], None)
    assert texts(prepared) == [
        SYSTEM.text,
        f"{PINNED_PREFIX}\n- fact",
        f"{SUMMARY_PREFIX}\nsummary one",
        user(2).text,
    ]
    assert provider.requests == []
    with pytest.raises(ValidationError, match="context state"):
        copy.restore({"chain": [{"level": 1}]})


async def test_disabled_settings_leave_messages_alone() -> None:
    cm, provider = manager([], window=10)
    cm.settings.enabled = False
    messages = [SYSTEM, user(1), reply(1), user(2), reply(2), user(3)]
    assert await cm.prepare(messages, None) == messages
    assert provider.requests == []


async def test_empty_summary_is_a_provider_error() -> None:
    cm, _ = manager(["   "], keep=1)
    with pytest.raises(ProviderError, match="came back empty"):
        await cm.summarize([SYSTEM, user(1), reply(1), user(2)])


def test_settings_from_data_validate_each_key() -> None:
    settings = ContextSettings.from_data(
        {"max_context_tokens": 4096, "threshold": 0.5, "keep_last_turns": 2, "pinned": ["x"]}
    )
    assert settings.max_context_tokens == 4096 and settings.threshold == 0.5
    cm = ContextManager(ProviderSummarizer(ScriptedProvider()), settings)
    assert cm.threshold_tokens == 2048 and cm.pinned() == ["x"]
    assert ContextManager(ProviderSummarizer(ScriptedProvider())).threshold_tokens == 6553
    cases: list[tuple[dict[str, Any], str]] = [
        ({"threshold": 1.5}, "threshold"),
        ({"keep_last_turns": 0}, "keep_last_turns"),
        ({"max_context_tokens": "big"}, "max_context_tokens"),
        ({"pinned": "x"}, "pinned"),
        ({"strategy": "x"}, "unknown key 'strategy'"),
    ]
    for bad, key in cases:
        with pytest.raises(ValidationError, match=key):
            ContextSettings.from_data(bad, "agent.context")


def test_context_window_from_capabilities_or_price_table() -> None:
    assert context_window(Capabilities(max_context_tokens=1234)) == 1234
    assert context_window(Capabilities(), "") is None
    assert context_window(None, "no-such-model-anywhere") is None
    known = context_window(None, "gpt-4o-mini", "openai")
    assert known is None or known > 100_000


async def test_agent_with_a_tiny_window_summarises_itself() -> None:
    from llmspell.agents.agent import Agent
    from llmspell.agents.config import AgentConfig

    cm, _ = manager(["summary one", "summary two"])
    chat_provider = ScriptedProvider(echo=True)
    agent = Agent(
        AgentConfig(name="chatty", system_prompt="Be brief."),
        chat_provider,
        context=cm,
    )
    # The agent reports exact token counts after each reply, so the 60-token window fills
    # on every second turn: turn 3 sends the first summary, turn 5 the second.
    for n in range(1, 6):
        await agent.execute(user(n).text)
    third = chat_provider.requests[2].messages
    assert texts(third) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nsummary one", user(3).text]
    last = chat_provider.requests[-1].messages
    assert texts(last) == [SYSTEM.text, f"{SUMMARY_PREFIX}\nsummary two", user(5).text]
    assert [step["level"] for step in cm.chain()] == [1, 2]
    assert len(agent.get_history()) == 10
