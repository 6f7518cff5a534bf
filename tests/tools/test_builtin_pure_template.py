"""template-creator: rendering, the sandbox, strict variables and the output budget."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.template_creator import TemplateCreator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(TemplateCreator())
    return registry


async def render(registry: ToolRegistry, ctx: ToolContext, source: str, **params: Any) -> str:
    result = await registry.execute("template-creator", {"input": source, **params}, ctx)
    assert result.result == result.text
    assert result.operation == "render"
    return str(result.text)


async def test_renders_variables_loops_and_filters(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    source = (
        "Hello {{ name|title }}!\n"
        "{% for item in items %}- {{ item.name }}: {{ '%.2f' % item.price }}\n{% endfor %}"
        "Total: {{ items|sum(attribute='price') }}"
    )
    variables = {
        "name": "ann lee",
        "items": [{"name": "tea", "price": 2}, {"name": "cake", "price": 3.5}],
    }
    output = await render(registry, ctx, source, variables=variables)
    assert output == "Hello Ann Lee!\n- tea: 2.00\n- cake: 3.50\nTotal: 5.5"


async def test_concat_format_and_macros(registry: ToolRegistry, ctx: ToolContext) -> None:
    source = (
        "{% macro tag(n) %}<{{ n }}>{% endmacro %}"
        "{{ 'a' ~ x ~ 'b' }} {{ '{}-{}'.format(1, 2) }} {{ tag('p') }} {{ 'ab' * 2 }}"
        " {% for i in range(3) %}{{ i }}{% endfor %} {{ ['x', 'y']|join(',') }}"
    )
    assert await render(registry, ctx, source, variables={"x": 1}) == "a1b 1-2 <p> abab 012 x,y"


async def test_undefined_variables(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert await render(registry, ctx, "[{{ missing }}]") == "[]"
    with pytest.raises(
        ValidationError, match=r"parameter 'variables': 'missing' is undefined at line 2"
    ):
        await render(registry, ctx, "ok\n{{ missing }}", strict=True)


async def test_syntax_error_names_input(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(
        ValidationError, match=r"template-creator: parameter 'input': syntax error at line 1"
    ):
        await render(registry, ctx, "{% for x in %}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ name.__class__.__mro__ }}",
        "{{ items.append(1) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
async def test_sandbox_blocks_internals_and_mutation(
    registry: ToolRegistry, ctx: ToolContext, source: str
) -> None:
    with pytest.raises(ToolError, match="not allowed in a sandboxed template"):
        await render(registry, ctx, source, variables={"name": "x", "items": []})


async def test_output_limit(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert await render(registry, ctx, "{{ 'x' * 10 }}", max_output=10) == "x" * 10
    with pytest.raises(ToolError, match="output limit"):
        await render(registry, ctx, "{% for i in range(11) %}x{% endfor %}", max_output=10)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% set s = 'a' * 2000 %}{{ s|length }}", "repetition would be 2000 long"),
        ("{% set s = 'a' * 900 %}{{ (s ~ s)|length }}", "concatenation would be 1800 long"),
        ("{{ ('a' * 600 + 'b' * 600)|length }}", "concatenation would be 1200 long"),
        ("{{ ('%05000d' % 1)|length }}", "format width 5000"),
        ("{{ '{:>5000}'.format(1)|length }}", "format width 5000"),
        ("{{ 'x'|center(5000)|length }}", "argument 5000"),
        ("{{ ('a' * 100)|replace('a', 'b' * 100)|length }}", "replace would be 10000 long"),
        ("{{ ('a' * 100).replace('a', 'b' * 100)|length }}", "replace would be 10000 long"),
        ("{{ (['abc' * 300] * 3)|join|length }}", "join would be 2700 long"),
        ("{{ 10 ** 100000 > 1 }}", "more than 10000 bits"),
        ("{{ ('%*d' % (5000, 1))|length }}", "argument 5000"),
        ("{{ '{:>{w}}'.format(1, w=5000)|length }}", "argument 5000"),
        ("{{ 'x'.ljust(5000)|length }}", "argument 5000"),
        (
            "{% macro f(s, n) %}{{ f(s ~ s, n - 1) if n else s|length }}{% endmacro %}"
            "{{ f('ab', 40) }}",
            "concatenation would be 1024 long",
        ),
    ],
)
async def test_large_intermediate_values_are_refused(
    registry: ToolRegistry, ctx: ToolContext, source: str, reason: str
) -> None:
    with pytest.raises(ToolError, match="output limit") as info:
        await render(registry, ctx, source, max_output=1000)
    assert reason in str(info.value)


async def test_large_numbers_as_data_are_fine(registry: ToolRegistry, ctx: ToolContext) -> None:
    source = "{{ '{:,}'.format(n) }} {{ '%d' % n }} {{ n|string|length }} {{ f(n) }}"
    source = "{% macro f(x) %}{{ x }}{% endmacro %}" + source
    output = await render(registry, ctx, source, variables={"n": 2_500_000}, max_output=1000)
    assert output == "2,500,000 2500000 7 2500000"


async def test_range_and_work_budget(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="range of 20000 items"):
        await render(registry, ctx, "{% for i in range(20000) %}{% endfor %}")
    with pytest.raises(ToolError, match="work budget"):
        await render(
            registry,
            ctx,
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            max_output=1000,
        )


async def test_runtime_errors_are_tool_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="rendering failed at line 1: ZeroDivisionError"):
        await render(registry, ctx, "{{ 1 / 0 }}")


async def test_validate_lists_variables(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "template-creator",
        {
            "operation": "validate",
            "input": "{% set b = 1 %}{{ a }}{{ b }}{% for x in xs %}{{ x }}{% endfor %}",
        },
        ctx,
    )
    assert result.result == {"valid": True, "error": None, "variables": ["a", "xs"]}
    bad = await registry.execute("template-creator", {"operation": "validate", "input": "{{"}, ctx)
    assert bad.result["valid"] is False
    assert "syntax error at line 1" in bad.result["error"]


async def test_parameter_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'input' is required"):
        await registry.execute("template-creator", {}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'max_output'"):
        await registry.execute("template-creator", {"input": "x", "max_output": 0}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'input'"):
        await registry.execute("template-creator", {"input": "x" * 100_001}, ctx)
