"""Context-window management: keep an agent's conversation inside its model's context window.

Before each request the agent hands its messages to ``ContextManager.prepare``. Each message is
counted in tokens: exactly when a provider reported usage for it (``record_usage``), else
estimated at four characters a token; each message is worked out once (``token_counts``), so a
request only counts what is new since the last one. While the total stays under the threshold
(80% of the context window unless configured) the messages go out as they are. Past it, the
older turns are replaced by a summary written by the summariser, keeping the system prompt, the
pinned facts and the last ``keep_last_turns`` turns (a turn starts at a user message). The next
time the conversation outgrows the window, the summary and the turns after it are summarised
again: original → summary 1 → summary 2. ``chain()`` keeps every step with the messages it
replaced, and with a ``ConversationStore`` each summary is also stored in the session's
conversation, where ``load`` starts from the latest one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from llmspell.agents.token_counts import Fingerprint, TokenCounts, fingerprint
from llmspell.agents.token_counts import estimate_tokens as estimate_tokens
from llmspell.core.errors import ProviderError, ValidationError
from llmspell.core.types import ChatMessage, ChatRequest
from llmspell_utils import jsonutil

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities
    from llmspell.events import EventBus
    from llmspell.providers.base import Provider
    from llmspell.state.conversations import ConversationStore

SUMMARY_PREFIX = "Summary of the earlier conversation:"
PINNED_PREFIX = "Facts to keep in mind:"
DEFAULT_CONTEXT_TOKENS = 8192
"""The window assumed when neither the settings nor the provider say how large it is."""
DEFAULT_THRESHOLD = 0.8
DEFAULT_KEEP_LAST_TURNS = 3

DEFAULT_SUMMARY_PROMPT = (
    "You condense conversations. Summarise the conversation below for the assistant who will "
    "continue it: keep every fact, decision, name, number, open question and commitment; drop "
    "greetings and repetition. If it starts with an earlier summary, merge that summary in. "
    "Answer with the summary only, in the conversation's language."
)

Summarizer = Callable[[list[ChatMessage]], Awaitable[str]]
"""Writes a summary of messages; what ``ContextManager`` calls to shrink a conversation."""


class Charger(Protocol):
    """What pays for a summary call (``Budget.for_agent(...)`` or a ``Budget``)."""

    def charge(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None: ...


# --- settings ------------------------------------------------------------------------------------


@dataclass
class ContextSettings:
    """Per-agent settings, from an agent's ``context`` table (see ``from_data``)."""

    enabled: bool = True
    max_context_tokens: int | None = None
    threshold: float = DEFAULT_THRESHOLD
    keep_last_turns: int = DEFAULT_KEEP_LAST_TURNS
    summary_model: str | None = None
    summary_prompt: str | None = None
    pinned: list[str] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None, where: str = "context") -> ContextSettings:
        """Validate a table ``{enabled, max_context_tokens, threshold, keep_last_turns,
        summary_model, summary_prompt, pinned}``; errors name the key."""
        data = dict(data or {})
        known = {
            "enabled",
            "max_context_tokens",
            "threshold",
            "keep_last_turns",
            "summary_model",
            "summary_prompt",
            "pinned",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(known))})"
            )
        settings = cls()
        if "enabled" in data:
            if not isinstance(data["enabled"], bool):
                raise ValidationError(f"{where}.enabled must be true or false")
            settings.enabled = data["enabled"]
        if data.get("max_context_tokens") is not None:
            settings.max_context_tokens = _positive_int(
                data["max_context_tokens"], f"{where}.max_context_tokens"
            )
        if "threshold" in data:
            value = data["threshold"]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise ValidationError(
                    f"{where}.threshold must be a fraction of the window above 0 and at most 1, "
                    f"got {value!r}"
                )
            settings.threshold = float(value)
        if "keep_last_turns" in data:
            settings.keep_last_turns = _positive_int(
                data["keep_last_turns"], f"{where}.keep_last_turns"
            )
        for key in ("summary_model", "summary_prompt"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValidationError(f"{where}.{key} must be a non-empty string")
            setattr(settings, key, value)
        pinned = data.get("pinned", [])
        if not isinstance(pinned, list) or not all(isinstance(p, str) and p for p in pinned):
            raise ValidationError(f"{where}.pinned must be a list of non-empty strings")
        settings.pinned = list(pinned)
        return settings


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{where} must be a positive integer, got {value!r}")
    return value


def context_window(
    capabilities: Capabilities | None, model: str = "", provider: str | None = None
) -> int | None:
    """The context window of a model: what the provider's capabilities say, else what the
    price table knows about ``model``; ``None`` when neither knows."""
    if capabilities is not None and capabilities.max_context_tokens:
        return capabilities.max_context_tokens
    if not model:
        return None
    from llmspell.providers.pricing import model_info

    info = model_info(model, provider)
    return None if info is None else info.max_input_tokens


# --- messages ------------------------------------------------------------------------------------


def _is_summary(message: ChatMessage) -> bool:
    return message.role == "system" and message.text.startswith(SUMMARY_PREFIX)


def _is_pinned(message: ChatMessage) -> bool:
    return message.role == "system" and message.text.startswith(PINNED_PREFIX)


def summary_message(text: str) -> ChatMessage:
    """The system message that stands for the summarised turns."""
    return ChatMessage.system(f"{SUMMARY_PREFIX}\n{text}")


def transcript(messages: Sequence[ChatMessage]) -> str:
    """Messages as ``role: text`` lines, tool calls and images noted: what a summariser reads."""
    lines: list[str] = []
    for message in messages:
        if _is_summary(message):
            earlier = message.text[len(SUMMARY_PREFIX) :].strip()
            lines.append(f"(summary of what came before) {earlier}")
            continue
        label = message.role if not message.name else f"{message.role} ({message.name})"
        text = message.text
        if message.tool_calls:
            asked = ", ".join(
                f"{c.name}({c.raw_arguments or jsonutil.dumps(c.arguments)})"
                for c in message.tool_calls
            )
            text = f"{text} [calls tools: {asked}]".strip()
        if message.has_images:
            text += " [with images]"
        lines.append(f"{label}: {text}")
    return "\n".join(lines)


# --- the default summariser ----------------------------------------------------------------------


class ProviderSummarizer:
    """Summarises with a model: ``prompt`` as the system message, the transcript as the user
    message. ``budget``, when given, is charged for the call."""

    def __init__(
        self,
        provider: Provider,
        model: str = "",
        prompt: str | None = None,
        *,
        max_tokens: int | None = None,
        budget: Charger | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.prompt = prompt or DEFAULT_SUMMARY_PROMPT
        self.max_tokens = max_tokens
        self.budget = budget

    async def __call__(self, messages: list[ChatMessage]) -> str:
        request = ChatRequest(
            model=self.model,
            messages=[ChatMessage.system(self.prompt), ChatMessage.user(transcript(messages))],
            max_tokens=self.max_tokens,
        )
        response = await self.provider.complete(request)
        if self.budget is not None:
            usage = response.usage
            self.budget.charge(usage.input_tokens, usage.output_tokens, response.cost_usd or 0.0)
        text = response.text.strip()
        if not text:
            model = self.model or "default model"
            raise ProviderError(
                f"summary from provider '{self.provider.name}' ({model}) came back empty"
            )
        return text


# --- the manager ---------------------------------------------------------------------------------


@dataclass
class _Summary:
    """One step of the chain: a summary and the messages it replaced (the previous summary
    first, from the second level on)."""

    level: int
    text: str
    replaced: list[dict[str, Any]]
    covered: int | None
    """How many original messages (after the system prompt) it stands for, when known."""
    tokens_before: int
    tokens_after: int
    created_at: float
    manual: bool
    persisted_seq: int | None = None

    def message(self) -> ChatMessage:
        return summary_message(self.text)

    @cached_property
    def last_covered(self) -> Fingerprint:
        return fingerprint(ChatMessage.model_validate(self.replaced[-1]))

    def to_data(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "summary": self.text,
            "replaced": self.replaced,
            "covered": self.covered,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "created_at": self.created_at,
            "manual": self.manual,
            "persisted_seq": self.persisted_seq,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> _Summary:
        return cls(
            level=int(data["level"]),
            text=str(data["summary"]),
            replaced=[dict(m) for m in data["replaced"]],
            covered=data.get("covered"),
            tokens_before=int(data["tokens_before"]),
            tokens_after=int(data["tokens_after"]),
            created_at=float(data["created_at"]),
            manual=bool(data.get("manual", False)),
            persisted_seq=data.get("persisted_seq"),
        )


@dataclass
class _View:
    """Messages split for summarising: the system prompt, the summary in force, the rest, and
    how many original messages the summary replaced here (``None`` when unknown)."""

    head: list[ChatMessage]
    summary: ChatMessage | None
    rest: list[ChatMessage]
    offset: int | None


class ContextManager:
    """Keeps one agent's conversation inside the context window (see the module docs).

    ``conversations`` and ``session_id`` make summaries persistent in that session;
    ``events`` receives ``agent.context.summarized``."""

    def __init__(
        self,
        summarizer: Summarizer,
        settings: ContextSettings | None = None,
        *,
        agent_name: str | None = None,
        events: EventBus | None = None,
        conversations: ConversationStore | None = None,
        session_id: str | None = None,
    ) -> None:
        self.summarizer = summarizer
        self.settings = settings or ContextSettings()
        self.agent_name = agent_name
        self.events = events
        self.conversations = conversations
        self.session_id = session_id
        self._pinned: list[str] = list(self.settings.pinned)
        self._chain: list[_Summary] = []
        self._counts = TokenCounts()

    # --- window and counting ---------------------------------------------------------------

    @property
    def max_context_tokens(self) -> int:
        return self.settings.max_context_tokens or DEFAULT_CONTEXT_TOKENS

    @property
    def threshold_tokens(self) -> int:
        """Past this many tokens, ``prepare`` summarises."""
        return int(self.max_context_tokens * self.settings.threshold)

    def count_tokens(self, message: ChatMessage) -> int:
        """The message's tokens: as reported through ``record_usage``, else estimated."""
        return self._counts.tokens(message)

    def total_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self._counts.total(messages)

    def record_usage(
        self,
        prompt: Sequence[ChatMessage],
        input_tokens: int,
        reply: ChatMessage | None = None,
        output_tokens: int = 0,
    ) -> None:
        """Learn exact counts from a provider's usage report: ``input_tokens`` for the whole
        ``prompt`` (spread over its messages not counted yet, in proportion to their estimates)
        and ``output_tokens`` for ``reply``."""
        counts = self._counts
        if reply is not None and output_tokens > 0:
            counts.learn(counts.counted(reply).content, output_tokens)
        tally = counts.tally(prompt)
        uncounted = tally.uncounted
        left = input_tokens - tally.exact
        estimated = sum(entry.estimate for entry in uncounted)
        if not uncounted or left <= 0:
            return
        for entry in uncounted:
            counts.learn(entry.content, max(1, round(left * entry.estimate / estimated)))

    # --- pinned facts ------------------------------------------------------------------------

    def pinned(self) -> list[str]:
        return list(self._pinned)

    def pin(self, fact: str) -> None:
        """Keep ``fact`` in every request, whatever gets summarised."""
        if not isinstance(fact, str) or not fact:
            raise ValidationError(f"a pinned fact must be a non-empty string, got {fact!r}")
        if fact not in self._pinned:
            self._pinned.append(fact)

    def unpin(self, fact: str) -> bool:
        if fact in self._pinned:
            self._pinned.remove(fact)
            return True
        return False

    # --- preparing requests ------------------------------------------------------------------

    async def prepare(self, messages: list[ChatMessage], agent: Any = None) -> list[ChatMessage]:
        """The messages to send: the summary in force applied, pinned facts added, and the
        older turns summarised when the total is over the threshold."""
        if not self.settings.enabled:
            return list(messages)
        view = self._view(messages)
        assembled = self._assemble(view.head, view.summary, view.rest)
        if self.total_tokens(assembled) <= self.threshold_tokens:
            return assembled
        summarised = await self._summarize(view, assembled, agent, manual=False)
        return assembled if summarised is None else summarised

    async def summarize(self, messages: list[ChatMessage], agent: Any = None) -> list[ChatMessage]:
        """Summarise the older turns now, whatever the size (``agent:summarize()``); returns
        the shortened messages (unchanged when no turn is older than the last N)."""
        view = self._view(messages)
        assembled = self._assemble(view.head, view.summary, view.rest)
        summarised = await self._summarize(view, assembled, agent, manual=True)
        return assembled if summarised is None else summarised

    def _view(self, messages: Sequence[ChatMessage]) -> _View:
        head: list[ChatMessage] = []
        summary: ChatMessage | None = None
        start = 0
        while start < len(messages) and messages[start].role == "system":
            message = messages[start]
            if _is_summary(message):
                summary = message
            elif not _is_pinned(message):
                head.append(message)
            start += 1
        rest = list(messages[start:])
        if summary is not None:
            return _View(head, summary, rest, None)
        if not self._chain:
            return _View(head, None, rest, 0)
        latest = self._chain[-1]
        index = self._covered_index(rest, latest)
        if index is None:
            return _View(head, None, rest, 0)
        return _View(head, latest.message(), rest[index + 1 :], index + 1)

    def _covered_index(self, rest: list[ChatMessage], latest: _Summary) -> int | None:
        """Where the last message the summary replaced is in ``rest``, if it is there."""
        target = latest.last_covered
        expected = latest.covered
        counted = self._counts.counted
        if (
            expected
            and expected <= len(rest)
            and counted(rest[expected - 1]).content.fingerprint == target
        ):
            return expected - 1
        for index, message in enumerate(rest):
            if counted(message).content.fingerprint == target:
                return index
        return None

    def _assemble(
        self, head: list[ChatMessage], summary: ChatMessage | None, rest: list[ChatMessage]
    ) -> list[ChatMessage]:
        out = list(head)
        if self._pinned:
            facts = "\n".join(f"- {fact}" for fact in self._pinned)
            out.append(ChatMessage.system(f"{PINNED_PREFIX}\n{facts}"))
        if summary is not None:
            out.append(summary)
        out.extend(rest)
        return out

    async def _summarize(
        self, view: _View, assembled: list[ChatMessage], agent: Any, *, manual: bool
    ) -> list[ChatMessage] | None:
        turn_starts = [i for i, m in enumerate(view.rest) if m.role == "user"]
        keep = self.settings.keep_last_turns
        cut = turn_starts[-keep] if len(turn_starts) >= keep else 0
        older = view.rest[:cut]
        if not older:
            return None
        source = ([view.summary] if view.summary is not None else []) + older
        text = (await self.summarizer(source)).strip()
        previous_level = self._chain[-1].level if self._chain else 1
        level = 1 if view.summary is None else previous_level + 1
        result = self._assemble(view.head, summary_message(text), view.rest[cut:])
        step = _Summary(
            level=level,
            text=text,
            replaced=[m.model_dump(mode="json", exclude_none=True) for m in source],
            covered=None if view.offset is None else view.offset + len(older),
            tokens_before=self.total_tokens(assembled),
            tokens_after=self.total_tokens(result),
            created_at=time.time(),
            manual=manual,
        )
        name = self._name(agent)
        step.persisted_seq = self._persist(name, step, older[-1])
        self._chain.append(step)
        if self.events is not None:
            self.events.publish(
                "agent.context.summarized",
                {
                    "agent": name,
                    "level": level,
                    "replaced_messages": len(older),
                    "tokens_before": step.tokens_before,
                    "tokens_after": step.tokens_after,
                    "threshold_tokens": self.threshold_tokens,
                    "max_context_tokens": self.max_context_tokens,
                    "manual": manual,
                    "persisted": step.persisted_seq is not None,
                    "session_id": self.session_id,
                },
            )
        return result

    def _persist(self, agent_name: str, step: _Summary, last: ChatMessage) -> int | None:
        """Store the summary in the session's conversation, replacing the entries up to the
        stored copy of ``last``; ``None`` when there is no store or no such entry."""
        if self.conversations is None or self.session_id is None:
            return None
        entries = self.conversations.entries(self.session_id, agent_name)
        after = max(
            (e["replaces_until"] for e in entries if e["kind"] == "summary"),
            default=0,
        )
        for entry in reversed(entries):
            if entry["kind"] != "message" or entry["seq"] <= after:
                continue
            stored = entry["message"]
            if stored.get("role") == last.role and _stored_text(stored) == last.text:
                summary = {"role": "system", "content": step.message().text}
                return self.conversations.append_summary(
                    self.session_id, agent_name, summary, entry["seq"]
                )
        return None

    def _name(self, agent: Any) -> str:
        if self.agent_name:
            return self.agent_name
        name = getattr(agent, "name", None)
        if not isinstance(name, str):
            name = getattr(getattr(agent, "config", None), "name", None)
        return name if isinstance(name, str) and name else "agent"

    # --- the chain ---------------------------------------------------------------------------

    def chain(self) -> list[dict[str, Any]]:
        """Every summary so far, oldest first: ``{level, summary, replaced, covered,
        tokens_before, tokens_after, created_at, manual, persisted_seq}``."""
        return [step.to_data() for step in self._chain]

    def snapshot(self) -> dict[str, Any]:
        """Plain data to save with the agent's state: pinned facts and the chain."""
        return {"pinned": self.pinned(), "chain": self.chain()}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Load what ``snapshot`` returned."""
        try:
            pinned = [str(p) for p in data.get("pinned", [])]
            chain = [_Summary.from_data(step) for step in data.get("chain", [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"context state is not a saved context snapshot: {exc}") from None
        self._pinned = pinned
        self._chain = chain

    def reset(self) -> None:
        """Forget the chain and the learned counts (after the agent clears its history)."""
        self._chain.clear()
        self._counts.forget_exact()


def _stored_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, Mapping) and p.get("type") == "text"
        )
    return ""


def context_for(
    settings_data: Mapping[str, Any] | None,
    provider: Provider,
    model: str,
    *,
    agent_name: str,
    events: EventBus | None = None,
    conversations: ConversationStore | None = None,
    session_id: str | None = None,
    budget: Charger | None = None,
) -> ContextManager | None:
    """The context manager of an agent from its ``context = {...}`` settings (None when disabled).

    The window defaults to the model's context window when the provider or the price table knows
    it; the summariser uses the agent's own provider, and ``summary_model`` or the agent's model.
    """
    settings = ContextSettings.from_data(settings_data, f"agent '{agent_name}'.context")
    if not settings.enabled:
        return None
    if settings.max_context_tokens is None:
        settings.max_context_tokens = context_window(
            getattr(provider, "capabilities", None), model, getattr(provider, "name", "")
        )
    summarizer = ProviderSummarizer(
        provider, settings.summary_model or model, settings.summary_prompt, budget=budget
    )
    return ContextManager(
        summarizer,
        settings,
        agent_name=agent_name,
        events=events,
        conversations=conversations,
        session_id=session_id,
    )
