"""State: JSON-shaped values under (scope, key), kept in the store between runs.

Scopes:
- ``global``;
- ``custom:<name>``, ``workflow:<id>``, ``agent:<name>``, ``tool:<name>``, ``session:<id>``;
- any other name without one of those prefixes is a custom scope: ``"myapp"`` is stored as
  ``custom:myapp`` (scripts written for hosts that accepted free scope names keep working).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.state import values
from llmspell.state.store import Store

GLOBAL = "global"
SCOPE_KINDS = ("custom", "workflow", "agent", "tool", "session")
MAX_NAME_LENGTH = 1024

_UPSERT = (
    "INSERT INTO state (scope, key, value, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at"
)
_SELECT = "SELECT value FROM state WHERE scope = ? AND key = ?"


def make_scope(kind: str, name: str) -> str:
    """``make_scope("agent", "writer")`` → ``"agent:writer"`` (validated)."""
    if kind not in SCOPE_KINDS:
        raise ValidationError(f"scope kind '{kind}' is unknown (known: {', '.join(SCOPE_KINDS)})")
    return normalize_scope(f"{kind}:{name}")


def normalize_scope(scope: Any) -> str:
    """The canonical form of a scope string; ``ValidationError`` naming what is wrong."""
    if not isinstance(scope, str):
        raise ValidationError(f"scope must be a string, got {type(scope).__name__}")
    return _normalize_scope(scope)


@functools.lru_cache(maxsize=1024)
def _normalize_scope(scope: str) -> str:
    if not scope or len(scope) > MAX_NAME_LENGTH or not scope.isprintable():
        raise ValidationError(
            f"scope {scope!r} must be 1 to {MAX_NAME_LENGTH} printable characters"
        )
    if scope == GLOBAL:
        return scope
    kind, _, name = scope.partition(":")
    if kind == GLOBAL:
        raise ValidationError(f"scope {scope!r}: 'global' takes no name")
    if kind in SCOPE_KINDS:
        if not name:
            raise ValidationError(f"scope {scope!r} needs a name: '{kind}:<name>'")
        return scope
    return f"custom:{scope}"


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValidationError(f"state key must be a string, got {type(key).__name__}")
    if not key or len(key) > MAX_NAME_LENGTH:
        raise ValidationError(f"state key {key!r} must be 1 to {MAX_NAME_LENGTH} characters")
    return key


class StateStore:
    """Save and load JSON-shaped values by scope and key."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, scope: str, key: str, value: Any) -> None:
        scope = normalize_scope(scope)
        _check_key(key)
        text = values.encode(value, f"state key '{key}' in scope '{scope}'")
        self._store.execute(_UPSERT, (scope, key, text, time.time()))

    def load(self, scope: str, key: str, default: Any = None) -> Any:
        row = self._store.fetch_one(_SELECT, (normalize_scope(scope), _check_key(key)))
        return default if row is None else values.decode(row[0])

    def delete(self, scope: str, key: str) -> bool:
        """Remove a key; True when it existed."""
        changed = self._store.execute(
            "DELETE FROM state WHERE scope = ? AND key = ?",
            (normalize_scope(scope), _check_key(key)),
        )
        return changed > 0

    def list_keys(self, scope: str, prefix: str | None = None) -> list[str]:
        """The keys of a scope in sorted order, optionally only those starting with ``prefix``."""
        scope = normalize_scope(scope)
        if prefix:
            rows = self._store.fetch_all(
                "SELECT key FROM state WHERE scope = ? AND substr(key, 1, ?) = ? ORDER BY key",
                (scope, len(prefix), prefix),
            )
        else:
            rows = self._store.fetch_all(
                "SELECT key FROM state WHERE scope = ? ORDER BY key", (scope,)
            )
        return [row[0] for row in rows]

    def clear(self, scope: str) -> int:
        """Remove every key of a scope; return how many there were."""
        return self._store.execute("DELETE FROM state WHERE scope = ?", (normalize_scope(scope),))

    def scopes(self) -> list[str]:
        """Every scope that holds at least one key, sorted."""
        rows = self._store.fetch_all("SELECT DISTINCT scope FROM state ORDER BY scope")
        return [row[0] for row in rows]

    def export(self, scope: str | None = None) -> dict[str, dict[str, Any]]:
        """``{scope: {key: value}}`` for one scope or all of them; ``import_`` takes it back."""
        if scope is None:
            rows = self._store.fetch_all("SELECT scope, key, value FROM state ORDER BY scope, key")
        else:
            rows = self._store.fetch_all(
                "SELECT scope, key, value FROM state WHERE scope = ? ORDER BY key",
                (normalize_scope(scope),),
            )
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            out.setdefault(row[0], {})[row[1]] = values.decode(row[2])
        return out

    def import_(self, data: Mapping[str, Any]) -> int:
        """Save every ``{scope: {key: value}}`` entry in one transaction (all or nothing);
        return the number of keys written. Existing keys are overwritten, others kept."""
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"state import must be a table of scopes, got {type(data).__name__}"
            )
        rows: list[tuple[str, str, str, float]] = []
        now = time.time()
        for raw_scope, entries in data.items():
            scope = normalize_scope(raw_scope)
            if not isinstance(entries, Mapping):
                raise ValidationError(
                    f"state import: scope '{raw_scope}' must map keys to values, "
                    f"got {type(entries).__name__}"
                )
            for key, value in entries.items():
                _check_key(key)
                text = values.encode(value, f"state key '{key}' in scope '{scope}'")
                rows.append((scope, key, text, now))
        with self._store.transaction() as conn:
            conn.executemany(_UPSERT, rows)
        return len(rows)
