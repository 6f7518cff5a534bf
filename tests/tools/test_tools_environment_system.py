from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.tools.builtin.environment_reader import EnvironmentReaderTool
from llmspell.tools.builtin.system_monitor import SystemMonitorTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

ENV = {"APP_MODE": "test", "APP_LEVEL": "3", "SECRET_KEY": "s3cret"}


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(EnvironmentReaderTool(environ=ENV))
    reg.register(SystemMonitorTool())
    return reg


async def test_get_exists_list_allowed_variables(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy(env_allow=["APP_*", "MISSING"]).context()
    got = await registry.execute("environment-reader", {"input": "APP_MODE"}, ctx)
    assert got.result == {"name": "APP_MODE", "value": "test", "exists": True}
    assert got.text == "test"
    missing = await registry.execute("environment_reader", {"name": "MISSING", "default": "d"}, ctx)
    assert missing.result == {"name": "MISSING", "value": "d", "exists": False}
    exists = await registry.execute(
        "environment-reader", {"operation": "exists", "input": "MISSING"}, ctx
    )
    assert exists.result["exists"] is False
    listed = await registry.execute("environment-reader", {"operation": "list"}, ctx)
    assert listed.result["variables"] == {"APP_LEVEL": "3", "APP_MODE": "test"}
    assert "SECRET_KEY" not in str(listed.text)


async def test_env_denials_and_validation(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy(env_allow=["APP_*"]).context()
    with pytest.raises(
        PermissionDenied, match=r"^environment-reader: reading .*'SECRET_KEY'.*env_allow"
    ):
        await registry.execute("environment-reader", {"input": "SECRET_KEY"}, ctx)
    with pytest.raises(PermissionDenied):
        await registry.execute(
            "environment-reader", {"input": "APP_MODE"}, PermissionPolicy().context()
        )
    empty = await registry.execute(
        "environment-reader", {"operation": "list"}, PermissionPolicy().context()
    )
    assert empty.result == {"variables": {}, "count": 0}
    with pytest.raises(ValidationError, match="parameter 'input': is required for operation 'get'"):
        await registry.execute("environment-reader", {}, ctx)
    with pytest.raises(ValidationError, match="parameter 'operation'"):
        await registry.execute("environment-reader", {"operation": "set"}, ctx)


async def test_system_monitor_sections(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy().context()
    report = await registry.execute("system-monitor", {}, ctx)
    assert set(report.result) == {"cpu", "memory", "disk", "system"}
    assert report.result["memory"]["total"] > 0
    assert report.result["cpu"]["count_logical"] >= 1
    memory = await registry.execute("system_monitor", {"operation": "memory"}, ctx)
    assert set(memory.result) >= {"total", "available", "percent"}
    assert str(memory.text).startswith("{")


async def test_system_monitor_disk_path_is_checked(registry: ToolRegistry, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="no read roots"):
        await registry.execute(
            "system-monitor",
            {"operation": "disk", "path": str(tmp_path)},
            PermissionPolicy().context(),
        )
    ctx = PermissionPolicy(file_read_roots=[str(tmp_path)]).context()
    disk = await registry.execute(
        "system-monitor", {"operation": "disk", "path": str(tmp_path)}, ctx
    )
    assert disk.result["total"] > 0
    with pytest.raises(ValidationError, match="parameter 'operation'"):
        await registry.execute("system-monitor", {"operation": "gpu"}, ctx)


async def test_strict_mode_asks_for_restricted_tools(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy(env_allow=["APP_*"]).context(mode="strict")
    with pytest.raises(PermissionDenied, match="strict mode"):
        await registry.execute("environment-reader", {"input": "APP_MODE"}, ctx)
    dry = PermissionPolicy(env_allow=["APP_*"]).context(mode="dry-run")
    got = await registry.execute("environment-reader", {"input": "APP_MODE"}, dry)
    assert got.result["value"] == "test"
