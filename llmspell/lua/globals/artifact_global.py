"""``Artifact``: content stored in a session, content-addressed and deduplicated.

Lua strings are bytes: content that is valid UTF-8 is stored as text, anything else as binary,
and both come back as the same Lua string. A ``nil`` session id means the run's current session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.lua.globals.calls import register

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.services import Services
    from llmspell.state.store import Record, Records


class RunArtifacts:
    """The Artifact calls of one run."""

    def __init__(self, bridge: Bridge) -> None:
        self._services: Services = bridge.services
        self._run = bridge.run  # type: ignore[attr-defined]

    def store(
        self, session: Any, type: Any, name: Any, content: Any, metadata: Any = None
    ) -> Record:
        if not isinstance(content, str):
            raise ValidationError(
                f"artifact content must be a string, got {_tname(content)} (use JSON.stringify "
                "for tables)"
            )
        return self._services.artifacts.store(
            self._session(session), type, name, _content(content), _metadata(metadata)
        )

    def store_file(self, session: Any, path: Any, type: Any = None, metadata: Any = None) -> Record:
        """Store a file's bytes; the path must be readable under the run's file permissions."""
        if not isinstance(path, str) or not path:
            raise ValidationError(f"artifact file path must be a non-empty string, got {path!r}")
        if type is not None and not isinstance(type, str):
            raise ValidationError(f"artifact type must be a string, got {_tname(type)}")
        session_id = self._session(session)
        allowed = self._services.permissions.check_read(path)
        return self._services.artifacts.store_file(
            session_id, allowed, type=type or "file", metadata=_metadata(metadata)
        )

    def get(self, session: Any, sequence: Any) -> Record | None:
        return self._services.artifacts.get(self._session(session), _sequence(sequence))

    def list(self, session: Any = None) -> Records:
        return self._services.artifacts.list(self._session(session))

    def delete(self, session: Any, sequence: Any) -> bool:
        return self._services.artifacts.delete(self._session(session), _sequence(sequence))

    def query(self, filters: Any = None) -> Records:
        if filters is None:
            filters = {}
        if not isinstance(filters, dict):
            raise ValidationError(f"filters must be a table, got {_tname(filters)}")
        return self._services.artifacts.query(filters)

    def _session(self, session: Any) -> str:
        if session is None:
            current: str | None = self._run.session_id
            if current is None:
                raise NotFoundError(
                    "no session id given and the run has no current session "
                    "(Session.set_current(id) or llmspell run --session NAME)"
                )
            return current
        if not isinstance(session, str) or not session:
            raise ValidationError(f"session id must be a non-empty string, got {session!r}")
        return session


def _content(text: str) -> str | bytes:
    """Text when the Lua string is valid UTF-8, else its bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def _metadata(metadata: Any) -> dict[str, Any] | None:
    if metadata is None or isinstance(metadata, dict):
        return metadata
    if metadata == []:
        return {}
    raise ValidationError(
        f"artifact metadata must be a table with string keys, got {_tname(metadata)}"
    )


def _sequence(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"artifact sequence must be an integer, got {value!r}")
    return value


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


METHODS: dict[str, tuple[str, ...]] = {
    "store": ("store",),
    "store_file": ("store_file", "storeFile"),
    "get": ("get",),
    "list": ("list",),
    "delete": ("delete",),
    "query": ("query",),
}


def install(bridge: Bridge) -> None:
    bridge.define_global("Artifact", register(bridge, RunArtifacts(bridge), "Artifact", METHODS))
