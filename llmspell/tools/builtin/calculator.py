"""calculator: arithmetic expressions evaluated with simpleeval, never Python ``eval``.

The expression is parsed with :mod:`ast` and checked against a small grammar (numbers, names,
arithmetic, comparisons, ``and``/``or``/``not``, conditional expressions and calls of the math
functions below) before simpleeval evaluates it with guarded operators. Integers stay integers
(``2 + 2 * 3`` is ``8``), a division of integers that comes out whole is an integer (``6 / 2`` is
``3``) and ``7 / 2`` is ``3.5``. ``^`` means power, as on a calculator.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import check_size, param_error, text_of

MAX_EXPRESSION_LENGTH = 1000
"""Longest expression accepted, in characters."""

MAX_INT_BITS = 10_000
"""Largest integer an operation may produce (about 3000 decimal digits)."""

NAME = "calculator"

Number = int | float | bool


class _TooLarge(ArithmeticError):
    """An operation would produce an integer above ``MAX_INT_BITS``."""


def _bits(value: Number) -> int:
    return abs(int(value)).bit_length() if isinstance(value, int) else 0


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and _bits(value) > MAX_INT_BITS:
        raise _TooLarge(f"the result has more than {MAX_INT_BITS} bits")
    return value


def _power(base: Number, exponent: Number) -> Number:
    whole = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if whole and abs(base) > 1 and (_bits(base) - 1) * exponent > MAX_INT_BITS:
        raise _TooLarge(f"the power has more than {MAX_INT_BITS} bits")
    result: Any = base**exponent
    if isinstance(result, complex):
        raise ValueError("a fractional power of a negative number is not a real number")
    return _check_int(result)  # type: ignore[no-any-return]


def _multiply(left: Number, right: Number) -> Number:
    if _bits(left) + _bits(right) > MAX_INT_BITS + 1:
        raise _TooLarge(f"the product has more than {MAX_INT_BITS} bits")
    return _check_int(left * right)  # type: ignore[no-any-return]


def _divide(left: Number, right: Number) -> Number:
    """True division that keeps a whole quotient of two integers an integer."""
    if isinstance(left, int) and isinstance(right, int) and right != 0 and left % right == 0:
        return left // right
    return left / right


def _round(value: Number, digits: int | None = None) -> Number:
    return round(value) if digits is None else round(value, digits)


def _log(value: Number, base: Number | None = None) -> float:
    return math.log(value) if base is None else math.log(value, base)


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: lambda a, b: _check_int(a + b),
    ast.Sub: lambda a, b: _check_int(a - b),
    ast.Mult: _multiply,
    ast.Div: _divide,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: _power,
    ast.USub: lambda a: -a,
    ast.UAdd: lambda a: +a,
    ast.Not: lambda a: not a,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": _log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": _round,
    "min": min,
    "max": max,
    "pow": _power,
}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.And,
    ast.Or,
    *OPERATORS,
)


def _check_grammar(tree: ast.Expression, names: set[str]) -> None:
    """Raise ``ValueError`` naming the first construct outside the calculator's grammar."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"'{type(node).__name__}' is not allowed in an expression")
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, int | float)
        ):
            raise ValueError(f"only numbers are allowed, not {node.value!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ValueError("only the math functions can be called, by name")
            if node.func.id not in FUNCTIONS:
                raise ValueError(f"unknown function '{node.func.id}'")
            if node.keywords:
                raise ValueError(f"function '{node.func.id}' takes no keyword arguments")
        elif isinstance(node, ast.Name) and id(node) not in called and node.id not in names:
            raise ValueError(f"unknown name '{node.id}' (give its value in 'variables')")


def _variables(params: dict[str, Any]) -> dict[str, Number]:
    raw = params.get("variables") or {}
    if not isinstance(raw, dict):
        raise param_error(NAME, "variables", "must be a table of name = number")
    out: dict[str, Number] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise param_error(NAME, "variables", f"'{key}' is not a valid variable name")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise param_error(NAME, "variables", f"value of '{key}' must be a number")
        out[key] = value
    return out


def _parse(expression: str, names: set[str]) -> ast.Expression:
    """The checked syntax tree; ``^`` is read as ``**`` (no other meaning in this grammar)."""
    try:
        tree = ast.parse(expression.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        raise ValueError(f"invalid syntax: {detail}") from None
    _check_grammar(tree, names)
    return tree


def _evaluate(expression: str, tree: ast.Expression, names: dict[str, Number]) -> Number:
    from simpleeval import InvalidExpression, SimpleEval

    evaluator = SimpleEval(operators=OPERATORS, functions=FUNCTIONS, names=names)
    try:
        value = evaluator.eval(expression, previously_parsed=tree.body)
    except ZeroDivisionError:
        raise ToolError(f"{NAME}: division by zero") from None
    except (_TooLarge, OverflowError) as exc:
        raise ToolError(f"{NAME}: number too large: {exc}") from None
    except (ValueError, TypeError, InvalidExpression) as exc:
        raise ToolError(f"{NAME}: cannot evaluate: {exc}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError(f"{NAME}: the result is not a finite number ({value})")
    return value  # type: ignore[no-any-return]


class Calculator(Tool):
    """Evaluates arithmetic expressions safely."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Evaluate an arithmetic expression safely, with variables and math functions "
        "(sqrt, sin, cos, tan, log, exp, abs, floor, ceil, round, min, max, pow, pi, e)."
    )
    category: ClassVar[str] = "utility"
    tags: ClassVar[tuple[str, ...]] = ("math", "calculation")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {
                "type": "string",
                "enum": ["evaluate", "validate", "functions"],
                "default": "evaluate",
                "description": "evaluate the expression, only check it, or list the functions",
            },
            "input": {
                "type": "string",
                "maxLength": MAX_EXPRESSION_LENGTH,
                "description": "the expression, e.g. '2 + 2 * 3' or 'sqrt(x) ^ 2'",
            },
            "variables": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "values of the names used in the expression, e.g. {x = 2}",
            },
        },
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "evaluate"
        if operation not in ("evaluate", "validate", "functions"):
            raise param_error(NAME, "operation", "must be evaluate, validate or functions")
        if operation == "functions":
            listing = {"functions": sorted(FUNCTIONS), "constants": sorted(CONSTANTS)}
            return ToolResult(result=listing, text=text_of(listing), operation=operation)
        expression = params.get("input")
        if not isinstance(expression, str) or not expression.strip():
            raise param_error(NAME, "input", "an expression is required")
        check_size(NAME, "input", expression, MAX_EXPRESSION_LENGTH)
        names: dict[str, Number] = {**CONSTANTS, **_variables(params)}
        if operation == "validate":
            return _validate(expression, set(names))
        try:
            tree = _parse(expression, set(names))
        except ValueError as exc:
            raise param_error(NAME, "input", str(exc)) from None
        value = _evaluate(expression, tree, names)
        return ToolResult(
            result={"result": value, "expression": expression},
            text=text_of(value),
            operation=operation,
        )


def _validate(expression: str, names: set[str]) -> ToolResult:
    try:
        _parse(expression, names)
    except ValueError as exc:
        result = {"valid": False, "expression": expression, "error": str(exc)}
        return ToolResult(result=result, text=str(exc), operation="validate")
    result = {"valid": True, "expression": expression, "error": None}
    return ToolResult(result=result, text="valid", operation="validate")
