"""process-executor: run an allow-listed executable with arguments, never through a shell.

The executable must be named by ``[security] process_allow``; arguments are passed as a list,
so shell syntax (``;``, ``|``, ``$(...)``) reaches the program as plain text. The child gets a
small environment (``PATH``, locale, the variables ``env_allow`` lets through, and the ``env``
parameter, which may not set loader variables such as ``LD_PRELOAD`` or ``PATH``), its output
is capped, and it is killed when the timeout expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import signal
import sys
import time
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error

NAME = "process-executor"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT = 1024 * 1024
BASE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
PROTECTED_ENV = ("LD_*", "DYLD_*", "PATH", "BASH_ENV", "ENV", "IFS", "PYTHONSTARTUP")
"""Variables the ``env`` parameter may not set: they would change what code the child loads."""
_READ_CHUNK = 65536


class ProcessExecutorTool(Tool):
    """Runs allow-listed programs directly (no shell)."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Run an allowed program with a list of arguments (no shell) and return its exit code, "
        "standard output and standard error."
    )
    category: ClassVar[str] = "system"
    security_level: ClassVar[SecurityLevel] = "privileged"
    side_effects: ClassVar[bool] = True
    tags: ClassVar[tuple[str, ...]] = ("process", "command", "system")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "executable": {"type": "string", "minLength": 1, "description": "Program to run"},
            "input": {"type": "string", "minLength": 1, "description": "Same as executable"},
            "args": {"type": "array", "items": {"type": "string"}},
            "arguments": {"type": "array", "items": {"type": "string"}},
            "cwd": {"type": "string", "minLength": 1, "description": "Folder in the read roots"},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "stdin": {"type": "string"},
            "timeout": {"type": "number", "exclusiveMinimum": 0},
            "max_output": {"type": "integer", "minimum": 1},
        },
        "additionalProperties": False,
    }

    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, max_output: int = DEFAULT_MAX_OUTPUT
    ) -> None:
        self.timeout = float(timeout)
        self.max_output = int(max_output)

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        executable = params.get("executable", params.get("input"))
        if not executable:
            raise param_error(NAME, "executable", "is required: the program to run")
        if "args" in params and "arguments" in params:
            raise param_error(NAME, "arguments", "give either 'args' or 'arguments', not both")
        args = list(params.get("args", params.get("arguments", [])))
        program = ctx.check_process(executable)
        cwd = None
        if "cwd" in params:
            cwd = ctx.check_read(params["cwd"])
            if not cwd.is_dir():
                raise param_error(NAME, "cwd", f"'{params['cwd']}' is not a folder")
        extra_env = params.get("env", {})
        for key in extra_env:
            if any(fnmatch.fnmatchcase(key.upper(), p) for p in PROTECTED_ENV):
                raise param_error(NAME, "env", f"setting {key!r} is not allowed")
        env = _child_env(ctx, extra_env)
        timeout = min(float(params.get("timeout", self.timeout)), self.timeout)
        limit = min(params.get("max_output", self.max_output), self.max_output)
        stdin = params.get("stdin")
        started = time.perf_counter()
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                *args,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=sys.platform != "win32",
            )
        except OSError as exc:
            raise ToolError(f"{NAME}: cannot start '{executable}': {exc.strerror or exc}") from None
        try:
            outputs = await asyncio.wait_for(_communicate(process, stdin, limit), timeout)
        except TimeoutError:
            _kill(process)
            await process.wait()
            raise ToolError(
                f"{NAME}: '{executable}' did not finish within {timeout} s and was killed"
            ) from None
        except BaseException:
            _kill(process)
            raise
        (stdout, out_cut), (stderr, err_cut) = outputs
        code = process.returncode if process.returncode is not None else -1
        return ToolResult(
            result={
                "executable": program,
                "args": args,
                "exit_code": code,
                "stdout": stdout,
                "stderr": stderr,
                "truncated": out_cut or err_cut,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
            text=stdout,
            success=code == 0,
            message=None if code == 0 else f"'{executable}' exited with status {code}",
        )


def _child_env(ctx: ToolContext, extra: dict[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in BASE_ENV if k in os.environ}
    for name in ctx.permissions.allowed_env_names(os.environ):
        env[name] = os.environ[name]
    env.update(extra)
    return env


async def _communicate(
    process: asyncio.subprocess.Process, stdin: str | None, limit: int
) -> tuple[tuple[str, bool], tuple[str, bool]]:
    async def feed() -> None:
        if process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if stdin:
                process.stdin.write(stdin.encode())
                await process.stdin.drain()
            process.stdin.close()

    assert process.stdout is not None and process.stderr is not None
    _, out, err = await asyncio.gather(
        feed(), _read_capped(process.stdout, limit), _read_capped(process.stderr, limit)
    )
    await process.wait()
    return out, err


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> tuple[str, bool]:
    """Up to ``limit`` bytes of the stream, then drain the rest so the child never blocks."""
    kept = bytearray()
    cut = False
    while chunk := await stream.read(_READ_CHUNK):
        room = limit - len(kept)
        if len(chunk) > room:
            cut = True
        kept += chunk[: max(room, 0)]
    return kept.decode("utf-8", errors="replace"), cut


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if sys.platform != "win32":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
