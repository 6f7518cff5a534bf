"""Tools written as Python functions: ``@llmspell.tool`` and ``host.register_tool(fn)``.

The parameter schema comes from the function's type hints (through a pydantic model, so
defaults, ``Literal``, ``Annotated[..., Field(...)]``, nested models and dataclasses work) and
the parameter descriptions from its docstring (Google ``Args:`` or reST ``:param x:``). Sync
functions run in a worker thread, async ones on the loop. A parameter annotated
``ToolContext`` receives the call's context and is not part of the schema.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from llmspell.core.errors import ValidationError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext
from llmspell.tools.callable_tool import CallableTool

if TYPE_CHECKING:
    from pydantic import BaseModel

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Returns?|Yields?|Raises|Examples?|Notes?):\s*$"
)
_GOOGLE_PARAM = re.compile(r"^\s*\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")


class FunctionTool(CallableTool):
    """A tool that calls a Python function with its validated parameters as arguments."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        category: str = "custom",
        version: str = "1.0.0",
        security_level: SecurityLevel = "safe",
        side_effects: bool = False,
        tags: tuple[str, ...] = (),
    ) -> None:
        if not callable(fn):
            raise ValidationError(f"a Python tool must be a function, got {type(fn).__name__}")
        tool_name = name or fn.__name__.replace("_", "-")
        summary, param_docs = parse_docstring(inspect.getdoc(fn) or "")
        self.fn = fn
        self._model, self._context_param = _parameters_model(fn, tool_name, param_docs)
        super().__init__(
            tool_name,
            description or summary or tool_name,
            _clean_schema(self._model.model_json_schema()),
            self._call,
            category=category,
            version=version,
            security_level=security_level,
            side_effects=side_effects,
            tags=tags,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The decorated function stays callable as before."""
        return self.fn(*args, **kwargs)

    async def _call(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        from pydantic import ValidationError as PydanticError

        try:
            model = self._model.model_validate(params)
        except PydanticError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "parameters"
            raise ValidationError(f"{self.name}: parameter '{where}': {first['msg']}") from None
        kwargs = {field: getattr(model, field) for field in type(model).model_fields}
        if self._context_param is not None:
            kwargs[self._context_param] = ctx
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**kwargs)
        result = await asyncio.to_thread(self.fn, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    category: str = "custom",
    version: str = "1.0.0",
    security_level: SecurityLevel = "safe",
    side_effects: bool = False,
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    category: str = "custom",
    version: str = "1.0.0",
    security_level: SecurityLevel = "safe",
    side_effects: bool = False,
    tags: tuple[str, ...] = (),
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a function a tool: ``@tool`` or ``@tool(name=..., description=...)``."""

    def wrap(func: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(
            func,
            name=name,
            description=description,
            category=category,
            version=version,
            security_level=security_level,
            side_effects=side_effects,
            tags=tags,
        )

    return wrap(fn) if fn is not None else wrap


def to_tool(obj: Any, **options: Any) -> Tool:
    """A ``Tool`` from a tool instance, a ``Tool`` subclass (instantiated without arguments) or
    a function (``options`` as for ``tool``)."""
    if isinstance(obj, Tool):
        if options:
            raise ValidationError(
                f"tool '{obj.name}' is already a tool; options {sorted(options)} do not apply"
            )
        return obj
    if isinstance(obj, type) and issubclass(obj, Tool):
        return obj()
    if callable(obj):
        return FunctionTool(obj, **options)
    raise ValidationError(f"expected a tool or a function, got {type(obj).__name__}")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and the description of each parameter."""
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        header = _SECTION.match(line)
        rest = _REST_PARAM.match(line)
        if header:
            section, current = header.group(1), None
        elif rest:
            section, current = "rest", rest.group(1)
            params[current] = rest.group(2).strip()
        elif section in ("Args", "Arguments", "Parameters") and (m := _GOOGLE_PARAM.match(line)):
            current = m.group(1)
            params[current] = m.group(2).strip()
        elif current is not None and line.strip() and line[:1].isspace():
            params[current] = f"{params[current]} {line.strip()}".strip()
        elif section is None:
            summary.append(line.strip())
        elif not line.strip():
            current = None
    return " ".join(" ".join(summary).split()), params


def _parameters_model(
    fn: Callable[..., Any], tool_name: str, docs: dict[str, str]
) -> tuple[type[BaseModel], str | None]:
    from pydantic import ConfigDict, Field, create_model

    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ValidationError(f"tool '{tool_name}': cannot read the type hints: {exc}") from None
    fields: dict[str, Any] = {}
    context_param = None
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ValidationError(
                f"tool '{tool_name}': parameter '{param.name}' must be a named parameter "
                "(no *args, **kwargs or positional-only parameters)"
            )
        hint = hints.get(param.name, Any)
        if hint is ToolContext:
            context_param = param.name
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        doc = docs.get(param.name)
        fields[param.name] = (hint, Field(default, description=doc) if doc else default)
    model = create_model(f"{tool_name}-parameters", __config__=ConfigDict(extra="forbid"), **fields)
    return model, context_param


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's schema without pydantic's generated titles, which only add noise for models."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema
