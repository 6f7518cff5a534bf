"""Scaling with conversation length: one more agent call after N earlier turns, from Lua.

Run: ``pytest benches/bench_scaling_conversation.py --benchmark-only``. For N in ``TURNS``, an
agent on the in-process scripted provider (echo mode, no network) that already holds N turns
(N user messages and N replies) makes one more ``agent:execute`` call from Lua. Its
``max_conversation_length`` is 2N messages, so the oldest turn is dropped after each call and
every round starts from exactly N turns. Its context window is set far above what N turns need
(``max_context_tokens``), so no summary is made: the rows measure keeping and counting the
history (the request's message list, the context manager's token count of every message, the
provider's usage estimate), not summarising it.

The floor is the same call from the same script on an agent whose history is cleared before
each call (a fresh conversation). Against the provider call alone the ratio would mix the
agent's fixed per-call cost with what the history adds; against a fresh conversation the fixed
cost is on both sides, so the ratio reads "a call N turns into a conversation costs this many
fresh calls", and the plot's right panel is the cost of each earlier turn. That per-turn cost
should stay flat: a rise with N would mean something quadratic in the history.
"""

from __future__ import annotations

import asyncio

import pytest
from lua_functions import ScriptFunctions
from pairing import Pairer, Plot

from llmspell import Host
from llmspell.providers.scripted import ScriptedProvider

TURNS = (10, 100, 250, 500)
ROUNDS = 20
CONTEXT_TOKENS = 10_000_000
LUA = """
long = Agent.create{
  name = "long", max_conversation_length = 2 * TURNS,
  context = {max_context_tokens = CONTEXT_TOKENS},
}
fresh = Agent.create{name = "fresh", context = {max_context_tokens = CONTEXT_TOKENS}}

function fill(n)
  for i = 1, n do long:execute("earlier question number " .. i) end
  return #long:get_history()
end

function ask_long(prompt)
  return long:execute(prompt).text
end

function ask_fresh(prompt)
  fresh:clear_history()
  return fresh:execute(prompt).text
end
"""
PROMPT = "one more question"


def script(turns: int) -> ScriptFunctions:
    """A run holding the two agents; ``long`` keeps at most ``turns`` turns."""
    host = Host({"storage": {"backend": "memory"}, "default_provider": "bench"})
    host.services.providers.register("bench", ScriptedProvider(echo=True), default_model="m")
    source = LUA.replace("CONTEXT_TOKENS", str(CONTEXT_TOKENS)).replace("TURNS", str(turns))
    return ScriptFunctions(host, source)


@pytest.mark.parametrize("turns", TURNS)
def test_conversation_length(paired: Pairer, loop: asyncio.AbstractEventLoop, turns: int) -> None:
    fns = script(turns)
    assert loop.run_until_complete(fns.call_async("fill", turns)) == 2 * turns
    assert loop.run_until_complete(fns.call_async("ask_long", PROMPT)) == PROMPT
    assert loop.run_until_complete(fns.call_async("ask_fresh", PROMPT)) == PROMPT
    paired(
        lambda: loop.run_until_complete(fns.call_async("ask_long", PROMPT)),
        lambda: loop.run_until_complete(fns.call_async("ask_fresh", PROMPT)),
        name=f"Lua agent:execute() after {turns} earlier turns",
        floor_name="the same call in a fresh conversation",
        target=None,
        rounds=ROUNDS,
        plot=Plot("conversation-length", "agent:execute", turns, "earlier turns"),
    )
