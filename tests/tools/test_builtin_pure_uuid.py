"""uuid-generator: versions, formats, component ids, validation, parameter errors."""

from __future__ import annotations

import re
import uuid

import pytest

from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.uuid_generator import UuidGenerator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(UuidGenerator())
    return registry


@pytest.mark.parametrize("version", [1, 4, "v4", "1"])
async def test_generates_versions(
    registry: ToolRegistry, ctx: ToolContext, version: object
) -> None:
    result = await registry.execute("uuid-generator", {"version": version}, ctx)
    value = uuid.UUID(result.text)
    assert value.version == int(str(version).lstrip("v"))
    assert result.result == {"uuid": result.text, "version": value.version, "format": "hyphenated"}


async def test_v4_is_the_default_and_unique(registry: ToolRegistry, ctx: ToolContext) -> None:
    first = await registry.execute("uuid-generator", {}, ctx)
    second = await registry.execute("uuid_generator", {"operation": "generate"}, ctx)
    assert uuid.UUID(first.text).version == 4
    assert first.text != second.text


async def test_v1_does_not_reveal_the_mac_address(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute("uuid-generator", {"version": 1}, ctx)
    node = uuid.UUID(result.text).node
    assert node & (1 << 40), "random node ids carry the multicast bit"
    assert node != uuid.getnode()


async def test_v5_is_deterministic(registry: ToolRegistry, ctx: ToolContext) -> None:
    params = {"version": 5, "namespace": "dns", "name": "example.com"}
    result = await registry.execute("uuid-generator", params, ctx)
    assert result.text == str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"))
    custom = str(uuid.uuid4())
    again = await registry.execute(
        "uuid-generator", {"version": "v5", "namespace": custom, "name": "x"}, ctx
    )
    assert again.text == str(uuid.uuid5(uuid.UUID(custom), "x"))


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("hyphenated", r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        ("simple", r"^[0-9a-f]{32}$"),
        ("urn", r"^urn:uuid:[0-9a-f-]{36}$"),
        ("braced", r"^\{[0-9a-f-]{36}\}$"),
    ],
)
async def test_formats(registry: ToolRegistry, ctx: ToolContext, fmt: str, pattern: str) -> None:
    result = await registry.execute("uuid-generator", {"format": fmt}, ctx)
    assert re.match(pattern, str(result.text))
    assert result.result["format"] == fmt


async def test_component_id(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "uuid-generator", {"operation": "component_id", "prefix": "agent"}, ctx
    )
    assert re.match(r"^agent_[0-9a-f]{32}$", str(result.text))
    assert result.result == {"id": result.text, "prefix": "agent"}
    default = await registry.execute("uuid-generator", {"operation": "component_id"}, ctx)
    assert str(default.text).startswith("component_")


async def test_validate(registry: ToolRegistry, ctx: ToolContext) -> None:
    value = uuid.uuid4()
    for text, fmt in (
        (str(value), "hyphenated"),
        (value.urn, "urn"),
        ("{" + str(value) + "}", "braced"),
    ):
        result = await registry.execute(
            "uuid-generator", {"operation": "validate", "input": text}, ctx
        )
        assert result.result["valid"] is True
        assert result.result["format"] == fmt
        assert result.result["version"] == 4
    bad = await registry.execute(
        "uuid-generator", {"operation": "validate", "input": "1234-not-a-uuid"}, ctx
    )
    assert bad.result["valid"] is False
    assert bad.text == "invalid"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"version": 5, "namespace": "dns"}, "name"),
        ({"version": 5, "name": "x"}, "namespace"),
        ({"version": 5, "name": "x", "namespace": "nope"}, "namespace"),
        ({"version": 3}, "version"),
        ({"format": "base32"}, "format"),
        ({"operation": "component_id", "prefix": "has space"}, "prefix"),
        ({"operation": "validate"}, "input"),
    ],
)
async def test_parameter_errors(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, object], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"uuid-generator: parameter '{parameter}'"):
        await registry.execute("uuid-generator", params, ctx)


async def test_prefix_length_limit(ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'prefix'"):
        await UuidGenerator().execute({"operation": "component_id", "prefix": "p" * 65}, ctx)
