"""Token counts of conversation messages, worked out once per message.

A message is counted by estimate (four characters a token, plus a per-message overhead and a
fixed amount per image) until a provider's usage report gives its exact count (``learn``).
Exact counts belong to a message's fingerprint (role, text, name, tool call id and tool calls):
every message with the same fingerprint shares one, and the last ``MAX_KNOWN_COUNTS`` learned
are kept.

Each message object is fingerprinted and estimated the first time it is seen, and remembered
for as long as it lives, so a request late in a long conversation only works out the messages
that are new since the previous request. Messages must therefore not be changed once counted
(an agent's history never changes its messages).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from llmspell.core.types import ChatMessage, ImagePart
from llmspell_utils import jsonutil

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens a chat format spends on a message's role and separators."""
IMAGE_TOKENS = 85
"""Estimate for an image (what a low-detail image costs with OpenAI's vision models)."""
MAX_KNOWN_COUNTS = 4096
"""How many exact counts (one per fingerprint) are kept; the oldest learned go first."""

Fingerprint = tuple[Any, ...]


def estimate_tokens(message: ChatMessage) -> int:
    """An estimate of a message's tokens: its characters over four, plus the message overhead
    and a fixed amount per image."""
    chars = len(message.text) + len(message.name or "")
    for call in message.tool_calls or ():
        chars += len(call.name) + len(call.raw_arguments or jsonutil.dumps(call.arguments))
    images = 0
    if isinstance(message.content, list):
        images = sum(1 for part in message.content if isinstance(part, ImagePart))
    return math.ceil(chars / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS + IMAGE_TOKENS * images


def fingerprint(message: ChatMessage) -> Fingerprint:
    """What messages sharing an exact count have in common."""
    calls = tuple((c.id, c.name, c.raw_arguments) for c in message.tool_calls or ())
    return (message.role, message.text, message.name, message.tool_call_id, calls)


class Content:
    """What every message with one fingerprint shares: the count a provider reported for it,
    ``None`` while only estimates are known. ``serial`` orders contents by creation."""

    __slots__ = ("__weakref__", "exact", "fingerprint", "serial")

    def __init__(self, fingerprint: Fingerprint, serial: int) -> None:
        self.fingerprint = fingerprint
        self.serial = serial
        self.exact: int | None = None


class Counted(weakref.ref[ChatMessage]):
    """A message as counted when first seen: its content and estimate. A weak reference to the
    message, so the entry goes when the message does."""

    __slots__ = ("content", "estimate", "key")

    def __new__(
        cls,
        message: ChatMessage,
        callback: Callable[[Counted], None],
        content: Content,
        estimate: int,
    ) -> Counted:
        return super().__new__(cls, message, callback)

    def __init__(
        self,
        message: ChatMessage,
        callback: Callable[[Counted], None],
        content: Content,
        estimate: int,
    ) -> None:
        # ``weakref.ref.__init__`` would only check again the two arguments ``__new__`` took.
        self.key = id(message)
        self.content = content
        self.estimate = estimate

    @property
    def tokens(self) -> int:
        exact = self.content.exact
        return self.estimate if exact is None else exact


@dataclass
class Tally:
    """The counts of a list of messages: the sum of the exact counts, and the messages that
    only have an estimate. ``newest`` is a serial drawn when it was taken: every content it
    relies on is older, so a count learned for a newer content leaves it valid."""

    messages: list[ChatMessage]
    exact: int
    uncounted: list[Counted]
    newest: int

    @property
    def total(self) -> int:
        return self.exact + sum(entry.estimate for entry in self.uncounted)


class TokenCounts:
    """Counts messages, each message object fingerprinted and estimated once (see the module
    docs). The last tally is kept until a count it relies on changes, so asking again for the
    same messages (``ContextManager.record_usage`` after ``prepare``) costs no counting."""

    def __init__(self) -> None:
        self._seen: dict[int, Counted] = {}
        self._contents: weakref.WeakValueDictionary[Fingerprint, Content] = (
            weakref.WeakValueDictionary()
        )
        self._exact: dict[Content, None] = {}
        """The contents with an exact count, oldest learned first."""
        self._serials = count()
        self._last: Tally | None = None

    def counted(self, message: ChatMessage) -> Counted:
        entry = self._seen.get(id(message))
        return self._see(message) if entry is None else entry

    def tokens(self, message: ChatMessage) -> int:
        return self.counted(message).tokens

    def total(self, messages: Sequence[ChatMessage]) -> int:
        return self.tally(messages).total

    def tally(self, messages: Sequence[ChatMessage]) -> Tally:
        """The counts of ``messages``: the last tally again when it was of equal messages and
        no count it relies on has changed since."""
        last = self._last
        if last is not None and last.messages == messages:
            return last
        seen = self._seen
        exact_sum = 0
        uncounted: list[Counted] = []
        for message in messages:
            entry = seen.get(id(message))
            if entry is None:
                entry = self._see(message)
            exact = entry.content.exact
            if exact is None:
                uncounted.append(entry)
            else:
                exact_sum += exact
        newest = next(self._serials)
        self._last = Tally(list(messages), exact_sum, uncounted, newest)
        return self._last

    def learn(self, content: Content, tokens: int) -> None:
        """Set the exact count of every message with ``content``."""
        self._exact.pop(content, None)
        self._exact[content] = None
        self._set(content, tokens)
        if len(self._exact) > MAX_KNOWN_COUNTS:
            oldest = next(iter(self._exact))
            del self._exact[oldest]
            self._set(oldest, None)

    def forget_exact(self) -> None:
        """Back to estimates for every message."""
        for content in self._exact:
            content.exact = None
        self._exact.clear()
        self._last = None

    def _set(self, content: Content, tokens: int | None) -> None:
        if content.exact == tokens:
            return
        content.exact = tokens
        if self._last is not None and content.serial < self._last.newest:
            self._last = None

    def _see(self, message: ChatMessage) -> Counted:
        key = fingerprint(message)
        content = self._contents.get(key)
        if content is None:
            content = Content(key, next(self._serials))
            self._contents[key] = content
        entry = Counted(message, self._drop, content, estimate_tokens(message))
        self._seen[entry.key] = entry
        return entry

    def _drop(self, entry: Counted) -> None:
        if self._seen.get(entry.key) is entry:
            del self._seen[entry.key]
