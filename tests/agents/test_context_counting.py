"""Counting a long conversation: each message is worked out once, not once per request."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from agent_testkit import make_agent

from llmspell.agents import token_counts
from llmspell.agents.context import ContextManager, ContextSettings
from llmspell.agents.token_counts import TokenCounts, estimate_tokens
from llmspell.core.types import ChatMessage
from llmspell.providers import scripted
from llmspell.providers.scripted import ScriptedProvider


async def no_summary(messages: list[ChatMessage]) -> str:
    raise AssertionError("nothing should be summarised here")


def counting(calls: Counter[str], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any) -> Any:
        calls[name] += 1
        return function(*args)

    return counted


async def work_of_one_more_call(monkeypatch: pytest.MonkeyPatch, turns: int) -> Counter[str]:
    """How many messages get fingerprinted and estimated (by the context manager and by the
    scripted provider) for one call after ``turns`` earlier turns."""
    context = ContextManager(no_summary, ContextSettings(max_context_tokens=10_000_000))
    agent, _ = make_agent(ScriptedProvider(echo=True), system_prompt="Be brief.", context=context)
    for n in range(turns):
        await agent.execute({"text": f"earlier question number {n}"})
    calls: Counter[str] = Counter()
    with monkeypatch.context() as patch:
        for module, name, label in (
            (token_counts, "fingerprint", "fingerprint"),
            (token_counts, "estimate_tokens", "estimate"),
            (scripted, "_estimate_tokens", "provider"),
        ):
            patch.setattr(module, name, counting(calls, label, getattr(module, name)))
        await agent.execute({"text": "one more question"})
    return calls


async def test_one_more_call_counts_only_the_new_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = await work_of_one_more_call(monkeypatch, 5)
    long = await work_of_one_more_call(monkeypatch, 100)
    assert long == short
    # New to the context manager: the system prompt and the user message (new objects each
    # call) and the reply. New to the provider: those two and the previous call's reply.
    assert long == {"fingerprint": 3, "estimate": 3, "provider": 3}


async def test_equal_messages_share_their_exact_count() -> None:
    counts = TokenCounts()
    first = ChatMessage.user("how warm is it in Paris today")
    counts.learn(counts.counted(first).content, 11)
    again = ChatMessage.user("how warm is it in Paris today")
    assert counts.tokens(again) == 11
    assert counts.tokens(ChatMessage.assistant("how warm is it in Paris today")) != 11


async def test_a_kept_tally_follows_a_changed_count() -> None:
    counts = TokenCounts()
    messages = [ChatMessage.system("Be brief."), ChatMessage.user("hello there")]
    before = counts.total(messages)
    counts.learn(counts.counted(ChatMessage.user("hello there")).content, 50)
    assert counts.total(messages) == estimate_tokens(messages[0]) + 50 != before
    tally = counts.tally(messages)
    assert tally.exact == 50 and [e.key for e in tally.uncounted] == [id(messages[0])]


async def test_counted_messages_are_not_kept_alive() -> None:
    counts = TokenCounts()
    message = ChatMessage.user("a message that goes away")
    counts.total([message])
    counts.total([ChatMessage.user("another list")])
    gone = weakref.ref(message)
    del message
    gc.collect()
    assert gone() is None


async def test_usage_reported_for_a_long_conversation_is_spread_as_before() -> None:
    context = ContextManager(no_summary, ContextSettings(max_context_tokens=10_000_000))
    history = [ChatMessage.user(f"question {n}") for n in range(50)]
    prompt = await context.prepare([ChatMessage.system("Be brief."), *history])
    assert {estimate_tokens(m) for m in prompt} == {7}
    context.record_usage(prompt, 1000, ChatMessage.assistant("answer"), 7)
    assert [context.count_tokens(m) for m in prompt] == [round(1000 / 51)] * 51
    assert context.count_tokens(ChatMessage.assistant("answer")) == 7
    longer = await context.prepare([*prompt, ChatMessage.assistant("answer"), history[0]])
    assert context.total_tokens(longer) == 52 * round(1000 / 51) + 7
