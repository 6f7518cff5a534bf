from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import PermissionDenied, ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.process_executor import ProcessExecutorTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

PY = sys.executable


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(ProcessExecutorTool(timeout=5, max_output=100))
    return reg


def allowed(**kwargs: Any) -> ToolContext:
    mode = kwargs.pop("mode", "auto")
    return PermissionPolicy(process_allow=["echo", PY], **kwargs).context(mode=mode)


async def test_runs_with_arguments(registry: ToolRegistry) -> None:
    result = await registry.execute(
        "process-executor", {"executable": "echo", "args": ["hi"]}, allowed()
    )
    assert result.success is True
    assert result.result["exit_code"] == 0
    assert result.text == "hi\n"


async def test_never_through_a_shell(registry: ToolRegistry, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    args = [f"a; touch {marker}", "$(id)", "`id`", "| cat", "&& ls"]
    result = await registry.execute(
        "process_executor", {"input": "echo", "arguments": args}, allowed()
    )
    assert result.text == " ".join(args) + "\n"
    assert not marker.exists()
    with pytest.raises(PermissionDenied):
        await registry.execute(
            "process-executor", {"executable": f"echo hi; touch {marker}"}, allowed()
        )
    assert not marker.exists()


async def test_exit_status_stdin_stderr_cwd_env(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_COLOR", "blue")
    monkeypatch.setenv("SECRET_TOKEN", "s3cret")
    code = (
        "import os, sys; data = sys.stdin.read(); sys.stderr.write('err'); "
        "print(data.upper(), os.getcwd(), os.environ.get('APP_COLOR'), "
        "os.environ.get('SECRET_TOKEN'), os.environ.get('EXTRA')); sys.exit(3)"
    )
    ctx = PermissionPolicy(
        process_allow=[PY], env_allow=["APP_*"], file_read_roots=[str(tmp_path)]
    ).context()
    result = await registry.execute(
        "process-executor",
        {
            "executable": PY,
            "args": ["-c", code],
            "stdin": "abc",
            "cwd": str(tmp_path),
            "env": {"EXTRA": "x"},
        },
        ctx,
    )
    assert result.success is False
    assert result.result["exit_code"] == 3
    assert result.result["stderr"] == "err"
    assert str(result.text).split() == ["ABC", str(tmp_path.resolve()), "blue", "None", "x"]
    assert result.message == f"'{PY}' exited with status 3"


async def test_policy(registry: ToolRegistry, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match=r"^process-executor: running 'echo'.*process_allow"):
        await registry.execute(
            "process-executor", {"executable": "echo"}, PermissionPolicy().context()
        )
    with pytest.raises(PermissionDenied, match="'sh' is not allowed"):
        await registry.execute(
            "process-executor", {"executable": "sh", "args": ["-c", "id"]}, allowed()
        )
    with pytest.raises(PermissionDenied, match="no read roots"):
        await registry.execute(
            "process-executor", {"executable": "echo", "cwd": str(tmp_path)}, allowed()
        )


async def test_limits(registry: ToolRegistry) -> None:
    big = await registry.execute(
        "process-executor", {"executable": PY, "args": ["-c", "print('x' * 100000)"]}, allowed()
    )
    assert len(big.result["stdout"]) == 100
    assert big.result["truncated"] is True
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"did not finish within 0.3 s and was killed"):
        await registry.execute(
            "process-executor",
            {"executable": PY, "args": ["-c", "import time; time.sleep(30)"], "timeout": 0.3},
            allowed(),
        )
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("name", ["LD_PRELOAD", "ld_library_path", "DYLD_INSERT_LIBRARIES", "PATH"])
async def test_env_cannot_change_what_the_child_loads(registry: ToolRegistry, name: str) -> None:
    with pytest.raises(ValidationError, match=rf"parameter 'env': setting '{name}' is not allowed"):
        await registry.execute(
            "process-executor", {"executable": "echo", "env": {name: "/tmp/x.so"}}, allowed()
        )


async def test_validation_and_dry_run(registry: ToolRegistry, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="parameter 'executable': is required"):
        await registry.execute("process-executor", {"args": ["x"]}, allowed())
    with pytest.raises(ValidationError, match=r"parameter 'args\[0\]': 1 is not of type 'string'"):
        await registry.execute("process-executor", {"executable": "echo", "args": [1]}, allowed())
    marker = tmp_path / "made"
    ctx = PermissionPolicy(process_allow=["touch"]).context(mode="dry-run")
    result = await registry.execute(
        "process-executor", {"executable": "touch", "args": [str(marker)]}, ctx
    )
    assert result.result["executed"] is False
    assert not marker.exists()
