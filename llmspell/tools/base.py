"""The tool interface: what every tool (built-in, Python, Lua, plugin, MCP) implements.

A tool is a ``Tool`` subclass with class-level metadata (name, description, category, JSON
schema of its parameters) and one async ``execute(params, ctx)``. The registry validates
``params`` against ``parameters`` before calling ``execute``, applies the permission policy and
the run mode; ``ToolResult.text`` defaults to the result's text form when a tool leaves it empty.

Side-effecting tools reach files, the network, processes and the environment only through the
``ToolContext`` checks, which delegate to the run's ``PermissionPolicy``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from llmspell.events import EventBus, HookRegistry
    from llmspell.state.run_audit import RunAudit
    from llmspell.tools.permissions import PermissionPolicy

SecurityLevel = Literal["safe", "restricted", "privileged"]
Mode = Literal["auto", "strict", "dry-run"]


@dataclass
class ToolResult:
    """The outcome of one tool call, as plain data.

    ``text`` is what a tool says its result reads as; left unset, it is the result's text form
    (``text_of``), worked out when first read: a result too big for the caller is refused before
    anyone pays for its JSON text (about 0.4 s for 40 MB).
    """

    result: Any = None
    text: str | None = None
    success: bool = True
    operation: str | None = None
    message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{success, operation?, message?, result, text, metadata}`` (``?``: only when set)."""
        data: dict[str, Any] = {"success": self.success}
        if self.operation is not None:
            data["operation"] = self.operation
        if self.message is not None:
            data["message"] = self.message
        data["result"] = self.result
        data["text"] = self.text
        data["metadata"] = dict(self.metadata)
        return data


def _get_text(result: ToolResult) -> str:
    if result._text is None:
        result._text = text_of(result.result)
    return result._text


def _set_text(result: ToolResult, value: str | property | None) -> None:
    result._text = None if isinstance(value, property) else value


# A property over the dataclass field: ``ToolResult(text=...)`` and ``result.text = ...`` set it,
# reading it gives the default when unset.
ToolResult.text = property(_get_text, _set_text)  # type: ignore[assignment]


def text_of(value: Any) -> str:
    """A result's text form: a string as it is, nothing for ``None``, JSON for the rest."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if type(value) is int:  # the JSON text of an int, without the encoder
        return int.__repr__(value)
    from llmspell_utils.jsonutil import dumps

    try:
        return dumps(value)
    except (TypeError, ValueError):
        return str(value)


@dataclass
class ToolContext:
    """What a tool call may use besides its parameters: the policy, the mode, limits.

    ``hooks``, ``events`` and ``audit`` are the run's: when set, every call through
    ``ToolRegistry.execute`` fires the tool hook points, publishes ``tool.execution.*`` events
    and appends an audit record (``llmspell.tools.observed``)."""

    permissions: PermissionPolicy
    mode: Mode = "auto"
    run_id: str | None = None
    depth: int = 0
    timeout: float | None = None
    hooks: HookRegistry | None = None
    events: EventBus | None = None
    audit: RunAudit | None = None

    def check_read(self, path: str) -> Path:
        """The resolved path when reading it is allowed; raises ``PermissionDenied`` otherwise."""
        return self.permissions.check_read(path)

    def check_write(self, path: str) -> Path:
        """The resolved path when writing it is allowed; raises ``PermissionDenied`` otherwise."""
        return self.permissions.check_write(path)

    async def check_url(self, url: str) -> None:
        """Host allow/deny lists, then DNS resolution and private-range checks."""
        await self.permissions.check_url(url)

    def check_process(self, executable: str) -> str:
        """The resolved executable path when it is on the allow-list."""
        return self.permissions.check_process(executable)

    def check_env(self, name: str) -> None:
        """Raises ``PermissionDenied`` unless the variable is on the allow-list."""
        self.permissions.check_env(name)


class Tool(ABC):
    """Base class of every tool. Subclasses set the class variables and ``execute``."""

    name: ClassVar[str]
    description: ClassVar[str]
    category: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    security_level: ClassVar[SecurityLevel] = "safe"
    side_effects: ClassVar[bool] = False
    tags: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[dict[str, Any]]

    def has_side_effects(self, params: dict[str, Any]) -> bool:
        """Whether this call changes something outside the run (dry-run skips those calls).

        Defaults to ``side_effects``; a tool whose operations differ (read vs write) overrides it.
        """
        return self.side_effects

    @abstractmethod
    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Run the tool on already validated ``params``."""
