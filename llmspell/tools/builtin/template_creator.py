"""template-creator: render Jinja2 templates in a sandbox, with a limit on what they produce.

Templates run in Jinja2's ``ImmutableSandboxedEnvironment``: no access to private attributes or
Python internals, no mutation of lists and dicts. On top of that every render has a character
budget. The output may not exceed ``max_output`` characters. The operations that can make large
strings (``*``, ``+``, ``**``, ``%``, ``~``, filters, method and macro calls) are checked before
they run where the size of their result can be foreseen, and what they build is charged to a
budget of ``WORK_FACTOR`` times ``max_output``, so a short template cannot build a huge string
in memory before the output limit sees it. ``range`` gives at most ``MAX_RANGE`` items per call
and its items are charged too, which bounds nested loops.
"""

from __future__ import annotations

import asyncio
import functools
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import check_size, param_error, require

if TYPE_CHECKING:
    from jinja2 import Environment

NAME = "template-creator"

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 1_000_000
"""Default and largest ``max_output``."""
WORK_FACTOR = 10
"""Intermediate strings may add up to this many times ``max_output`` over one render."""
MAX_RANGE = 10_000
MAX_INT_BITS = 10_000

_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|\d*)(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")
_DIGITS = re.compile(r"\d+")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
"""String methods whose number arguments set the length of their result."""
_PADDING_FILTERS = frozenset({"center", "indent"})


class OutputTooLarge(Exception):
    """A render exceeded its character budget."""


class Budget:
    """The character budget of one render: checks before an operation, charges after it."""

    def __init__(self, max_output: int) -> None:
        self.max_output = max_output
        self.work_limit = max_output * WORK_FACTOR
        self.used = 0

    def check_length(self, length: int, what: str) -> None:
        if length > self.max_output:
            raise OutputTooLarge(f"{what} would be {length} long; the limit is {self.max_output}")

    def check_numbers(self, values: Iterable[Any]) -> None:
        """Reject numbers that would size a result (a width, a padding) above the limit."""
        for value in values:
            number = isinstance(value, int) and not isinstance(value, bool)
            if number and abs(value) > self.max_output:
                raise OutputTooLarge(f"argument {value} is larger than {self.max_output}")

    def check_format(self, fmt: str, args: Iterable[Any]) -> None:
        """Reject ``%``/``{}`` format widths and precisions above the limit, including ones
        taken from the arguments (``%*d``, ``{:{width}}``)."""
        numbers = [n for m in _PERCENT_SPEC.finditer(fmt) for n in m.groups() if n]
        numbers += [n for m in _BRACE_SPEC.finditer(fmt) for n in _DIGITS.findall(m.group(1))]
        for number in numbers:
            if number != "*" and (len(number) > 9 or int(number) > self.max_output):
                raise OutputTooLarge(f"format width {number} is larger than {self.max_output}")
        if "*" in numbers or _NESTED_SPEC.search(fmt):
            self.check_numbers(args)

    def charge(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict | range):
            self.used += len(value)
            if self.used > self.work_limit:
                raise OutputTooLarge(
                    f"the render exceeded its work budget of {self.work_limit} "
                    "(characters built plus range items)"
                )
        return value

    def check_call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Pre-checks for the string methods that can make a long string from short input."""
        owner = getattr(getattr(func, "__wrapped__", func), "__self__", None)
        if not isinstance(owner, str):
            return
        name = getattr(func, "__name__", "")
        if name in _PADDING_METHODS:
            self.check_numbers((*args, *kwargs.values()))
        elif name == "format":
            self.check_format(owner, (*args, *kwargs.values()))
        elif name == "format_map" and args and isinstance(args[0], dict):
            self.check_format(owner, args[0].values())
        elif name == "replace" and len(args) >= 2:
            self.check_replace(owner, args[0], args[1])
        elif name == "join" and args and isinstance(args[0], list | tuple):
            self.check_join(args[0], owner)

    def check_replace(self, text: Any, old: Any, new: Any) -> None:
        text, old, new = str(text), str(old), str(new)
        count = text.count(old) if old else len(text) + 1
        self.check_length(len(text) + count * (len(new) - len(old)), "replace")

    def check_join(self, items: list[Any] | tuple[Any, ...], separator: str) -> None:
        total = sum(len(str(item)) for item in items) + len(separator) * len(items)
        self.check_length(total, "join")

    def binop(self, operator: str, left: Any, right: Any) -> None:
        """Pre-checks for an intercepted binary operator."""
        sized = (str, list, tuple)
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, sized) and isinstance(times, int):
                    self.check_length(len(seq) * times, "repetition")
            integers = isinstance(left, int) and isinstance(right, int)
            if integers and abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
                raise OutputTooLarge(f"the product has more than {MAX_INT_BITS} bits")
        elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
            self.check_length(len(left) + len(right), "concatenation")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and right > 0 and abs(left).bit_length() * right > MAX_INT_BITS:
                raise OutputTooLarge(f"the power has more than {MAX_INT_BITS} bits")
        elif operator == "%" and isinstance(left, str):
            self.check_format(left, _percent_args(right))


def _percent_args(right: Any) -> Iterable[Any]:
    """The values a ``%`` format takes from its right operand."""
    if isinstance(right, dict):
        return right.values()
    return right if isinstance(right, tuple) else (right,)


def _guard_filter(name: str, func: Callable[..., Any], budget: Budget) -> Callable[..., Any]:
    """``func`` with the budget's pre-checks and charge; keeps Jinja's pass_* marker."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        values = args[skip:]
        if name in _PADDING_FILTERS:
            budget.check_numbers((*values[1:], *kwargs.values()))
        elif name == "replace" and len(values) >= 3:
            budget.check_replace(values[0], values[1], values[2])
        elif name == "format" and values and isinstance(values[0], str):
            budget.check_format(values[0], (*values[1:], *kwargs.values()))
        elif name == "join" and values and isinstance(values[0], list | tuple):
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            budget.check_join(values[0], str(separator))
        return budget.charge(func(*args, **kwargs))

    return guarded


@functools.cache
def _environment_class() -> Callable[..., Environment]:
    """The sandbox class, built on first use so importing this module does not load Jinja2."""
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.nodes import Concat
    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedCodeGenerator(CodeGenerator):
        """Compiles ``a ~ b`` to a budget-checked join instead of Jinja's plain one."""

        def visit_Concat(self, node: Concat, frame: Frame) -> None:
            self.write("environment.bounded_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        code_generator_class = BoundedCodeGenerator
        intercepted_binops = frozenset({"*", "+", "**", "%"})

        def __init__(self, budget: Budget, **options: Any) -> None:
            super().__init__(**options)
            self.budget = budget
            self.globals["range"] = self.bounded_range
            self.filters = {k: _guard_filter(k, f, budget) for k, f in self.filters.items()}

        def bounded_range(self, *args: int) -> range:
            numbers = range(*args)
            if len(numbers) > MAX_RANGE:
                raise OutputTooLarge(f"range of {len(numbers)} items; the limit is {MAX_RANGE}")
            return self.budget.charge(numbers)  # type: ignore[no-any-return]

        def bounded_concat(self, items: tuple[Any, ...]) -> str:
            parts = [str(item) for item in items]
            self.budget.check_length(sum(len(p) for p in parts), "concatenation")
            return self.budget.charge("".join(parts))  # type: ignore[no-any-return]

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            self.budget.binop(operator, left, right)
            return self.budget.charge(super().call_binop(context, operator, left, right))

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            __self.budget.check_call(__obj, args, kwargs)
            return __self.budget.charge(super().call(__context, __obj, *args, **kwargs))

    return BoundedSandbox


def _environment(budget: Budget, *, strict: bool) -> Environment:
    from jinja2 import StrictUndefined, Undefined

    return _environment_class()(
        budget,
        undefined=StrictUndefined if strict else Undefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def render(source: str, variables: dict[str, Any], *, strict: bool, max_output: int) -> str:
    """The rendered template; raises Jinja2's errors or ``OutputTooLarge``."""
    budget = Budget(max_output)
    template = _environment(budget, strict=strict).from_string(source)
    chunks: list[str] = []
    size = 0
    stream: Iterator[str] = template.generate(**variables)
    for chunk in stream:
        size += len(chunk)
        if size > max_output:
            raise OutputTooLarge(f"the output exceeds {max_output} characters")
        chunks.append(chunk)
    return "".join(chunks)


def undeclared_variables(source: str) -> list[str]:
    """The names a template reads that it does not define itself."""
    from jinja2 import meta

    env = _environment(Budget(MAX_OUTPUT_CHARS), strict=False)
    return sorted(meta.find_undeclared_variables(env.parse(source)))


def _template_line(exc: BaseException) -> int | None:
    lines = [
        f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"
    ]
    return lines[-1] if lines else None


def _render_error(exc: Exception) -> Exception:
    """Our error for a failed render: syntax and undefined names are parameter errors."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, TemplateSyntaxError):
        return param_error(NAME, "input", f"syntax error at line {exc.lineno}: {exc.message}")
    line = _template_line(exc)
    where = f" at line {line}" if line else ""
    if isinstance(exc, UndefinedError):
        return param_error(NAME, "variables", f"{exc.message}{where}")
    if isinstance(exc, SecurityError):
        return ToolError(f"{NAME}: not allowed in a sandboxed template{where}: {exc}")
    if isinstance(exc, OutputTooLarge):
        return ToolError(f"{NAME}: output limit{where}: {exc}")
    if isinstance(exc, RecursionError):
        return ToolError(f"{NAME}: the template recursed too deeply{where}")
    return ToolError(f"{NAME}: rendering failed{where}: {type(exc).__name__}: {exc}")


class TemplateCreator(Tool):
    """Renders Jinja2 templates in a sandbox."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Render a Jinja2 template ({{ name }}, {% for %}, filters) with variables in a sandbox, "
        "or validate one and list the variables it uses."
    )
    category: ClassVar[str] = "text"
    tags: ClassVar[tuple[str, ...]] = ("template", "jinja2", "text")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["render", "validate"], "default": "render"},
            "input": {
                "type": "string",
                "maxLength": MAX_TEMPLATE_CHARS,
                "description": "the Jinja2 template",
            },
            "variables": {"type": "object", "description": "values the template can use"},
            "strict": {
                "type": "boolean",
                "default": False,
                "description": "an undefined variable is an error instead of empty text",
            },
            "max_output": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_OUTPUT_CHARS,
                "description": f"largest output in characters (default {MAX_OUTPUT_CHARS})",
            },
        },
        "required": ["input"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "render"
        if operation not in ("render", "validate"):
            raise param_error(NAME, "operation", "must be render or validate")
        source = require(NAME, params, "input", operation)
        if not isinstance(source, str):
            raise param_error(NAME, "input", "must be a template string")
        check_size(NAME, "input", source, MAX_TEMPLATE_CHARS)
        if operation == "validate":
            return await asyncio.to_thread(_validate, source)
        variables = params.get("variables") or {}
        if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
            raise param_error(NAME, "variables", "must be a table of name = value")
        max_output = params.get("max_output", MAX_OUTPUT_CHARS)
        if isinstance(max_output, bool) or not isinstance(max_output, int):
            raise param_error(NAME, "max_output", "must be an integer")
        if not 1 <= max_output <= MAX_OUTPUT_CHARS:
            raise param_error(NAME, "max_output", f"must be from 1 to {MAX_OUTPUT_CHARS}")
        strict = bool(params.get("strict", False))
        try:
            output = await asyncio.to_thread(
                render, source, variables, strict=strict, max_output=max_output
            )
        except Exception as exc:
            raise _render_error(exc) from None
        return ToolResult(result=output, text=output, operation=operation)


def _validate(source: str) -> ToolResult:
    from jinja2 import TemplateSyntaxError

    try:
        names = undeclared_variables(source)
    except TemplateSyntaxError as exc:
        error = f"syntax error at line {exc.lineno}: {exc.message}"
        result: dict[str, Any] = {"valid": False, "error": error, "variables": []}
        return ToolResult(result=result, text=error, operation="validate")
    result = {"valid": True, "error": None, "variables": names}
    return ToolResult(result=result, text="valid", operation="validate")
