"""Prefixed, time-sortable identifiers such as ``run_01JD8X4Q7ZQ3M9VXW2K5T6B8NA``.

The 26 characters after the prefix are a ULID: a 48-bit millisecond timestamp followed by
80 random bits, in Crockford base32. Within one process, ids are strictly increasing: several
ids made in the same millisecond (or after the clock stepped back) continue from the previous
one by incrementing its random part, so sorting ids as strings sorts them by creation.
"""

from __future__ import annotations

import os
import re
import threading
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U, so ids are hard to misread."""

ID_LENGTH = 26
_RANDOM_BITS = 80
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_BODY = re.compile(rf"[0-7][{ALPHABET}]{{{ID_LENGTH - 1}}}")


class _Generator:
    """Monotonic ULID source shared by every thread of the process."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh. Run in a forked child, so that it draws new random bits instead of
        continuing the parent's sequence (which would repeat the parent's next ids), and does
        not inherit a lock held by another thread of the parent."""
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next_value(self) -> int:
        now_ms = time.time_ns() // 1_000_000
        with self._lock:
            if now_ms > self._last_ms:
                self._last_ms = now_ms
                self._last_random = int.from_bytes(os.urandom(10), "big")
            elif self._last_random < _RANDOM_MASK:
                self._last_random += 1
            else:
                self._last_ms += 1
                self._last_random = 0
            return (self._last_ms << _RANDOM_BITS) | self._last_random


_generator = _Generator()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_generator.reset)


def _encode(value: int) -> str:
    return "".join(ALPHABET[(value >> (5 * shift)) & 31] for shift in range(ID_LENGTH - 1, -1, -1))


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"id prefix {prefix!r} must start with a letter and contain only letters, digits,"
            " '_' or '-'"
        )


def new_id(prefix: str) -> str:
    """A new id ``<prefix>_<26-char ULID>``, greater than every id made before in this process."""
    _check_prefix(prefix)
    return f"{prefix}_{_encode(_generator.next_value())}"


def is_id(value: object, prefix: str) -> bool:
    """Whether ``value`` is an id made by :func:`new_id` with this ``prefix``."""
    _check_prefix(prefix)
    if not isinstance(value, str) or not value.startswith(prefix + "_"):
        return False
    return _BODY.fullmatch(value[len(prefix) + 1 :]) is not None
