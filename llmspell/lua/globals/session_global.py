"""``Session``: create, find and move sessions through their lifecycle; the run's current one.

The current session belongs to the run (``bridge.run.session_id``): the host may start a run in
a session (``llmspell run --session NAME``) and the script may switch with ``set_current``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.lua.globals.calls import register

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.services import Services
    from llmspell.state.store import Record, Records

_CREATE_KEYS = ("name", "description", "tags", "metadata")
_LIST_KEYS = ("tags", "status", "limit")


class RunSessions:
    """The Session calls of one run."""

    def __init__(self, bridge: Bridge) -> None:
        self._services: Services = bridge.services
        self._run = bridge.run  # type: ignore[attr-defined]

    def create(self, options: Any = None) -> str:
        if isinstance(options, str):
            options = {"name": options}
        fields = _options(options, _CREATE_KEYS, "a table {name, description, tags, metadata}")
        record = self._services.sessions.create(
            fields.get("name"),
            description=fields.get("description"),
            tags=_list(fields.get("tags"), "tags"),
            metadata=fields.get("metadata"),
        )
        session_id: str = record["id"]
        return session_id

    def get(self, id_or_name: Any) -> Record | None:
        return self._services.sessions.resolve(_id(id_or_name))

    def list(self, options: Any = None) -> Records:
        fields = _options(options, _LIST_KEYS, "a table {tags, status, limit}")
        return self._services.sessions.list(
            tags=_list(fields.get("tags"), "tags"),
            status=fields.get("status"),
            limit=fields.get("limit"),
        )

    def get_current(self) -> str | None:
        current: str | None = self._run.session_id
        return current

    def set_current(self, id_or_name: Any) -> str | None:
        """Make a session the run's current one (``nil`` clears it); returns its id."""
        if id_or_name is None:
            self._run.session_id = None
            return None
        session_id: str = self._require(id_or_name)["id"]
        self._run.session_id = session_id
        return session_id

    def suspend(self, id_or_name: Any) -> Record:
        return self._services.sessions.suspend(self._require(id_or_name)["id"])

    def resume(self, id_or_name: Any) -> Record:
        return self._services.sessions.resume(self._require(id_or_name)["id"])

    def complete(self, id_or_name: Any) -> Record:
        return self._services.sessions.complete(self._require(id_or_name)["id"])

    def delete(self, id_or_name: Any) -> bool:
        record = self._services.sessions.resolve(_id(id_or_name))
        if record is None:
            return False
        if self._run.session_id == record["id"]:
            self._run.session_id = None
        return self._services.sessions.delete(record["id"])

    def _require(self, id_or_name: Any) -> Record:
        key = _id(id_or_name)
        record = self._services.sessions.resolve(key)
        if record is None:
            raise NotFoundError(f"session '{key}' not found")
        return record


def _id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"session id or name must be a non-empty string, got {value!r}")
    return value


def _options(options: Any, known: tuple[str, ...], shape: str) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValidationError(f"expected {shape}, got {type(options).__name__}")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValidationError(f"unknown option '{unknown[0]}' (known: {', '.join(known)})")
    return options


def _list(value: Any, field: str) -> list[Any] | None:
    if value is None or value == {}:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ValidationError(f"'{field}' must be a list of strings, got {type(value).__name__}")
    return value


METHODS: dict[str, tuple[str, ...]] = {
    "create": ("create",),
    "get": ("get",),
    "list": ("list",),
    "get_current": ("get_current", "getCurrent"),
    "set_current": ("set_current", "setCurrent"),
    "suspend": ("suspend",),
    "resume": ("resume",),
    "complete": ("complete",),
    "delete": ("delete",),
}


def install(bridge: Bridge) -> None:
    bridge.define_global("Session", register(bridge, RunSessions(bridge), "Session", METHODS))
