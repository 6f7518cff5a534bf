"""file-operations: read, write, append, delete, create_dir, list_dir, copy, move, metadata,
exists; every path checked against the read or write roots ([security] file_read_roots /
file_write_roots), writes atomic, sizes bounded.

Relative paths are taken from the current folder. Read content goes in ``text`` (and
``result.content``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error
from llmspell_utils.fs import atomic_write

NAME = "file-operations"
DEFAULT_MAX_READ_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_WRITE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 10_000
READ_OPERATIONS = frozenset({"read", "list_dir", "metadata", "exists"})
OPERATIONS = (
    "read",
    "write",
    "append",
    "delete",
    "create_dir",
    "list_dir",
    "copy",
    "move",
    "metadata",
    "exists",
)


class FileOperationsTool(Tool):
    """Files and folders under the configured roots."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Read, write, append, delete, copy, move, list and inspect files and folders "
        "inside the allowed folders."
    )
    category: ClassVar[str] = "filesystem"
    security_level: ClassVar[SecurityLevel] = "privileged"
    side_effects: ClassVar[bool] = True
    tags: ClassVar[tuple[str, ...]] = ("file", "filesystem", "io")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "path": {"type": "string", "minLength": 1, "description": "File or folder"},
            "input": {"type": "string", "description": "Content for write and append"},
            "content": {"type": "string", "description": "Same as input"},
            "source_path": {"type": "string", "minLength": 1},
            "target_path": {"type": "string", "minLength": 1},
            "encoding": {"type": "string", "default": "utf-8"},
            "recursive": {"type": "boolean", "default": False},
            "overwrite": {"type": "boolean", "default": True},
            "max_size": {"type": "integer", "minimum": 1, "description": "Read limit in bytes"},
        },
        "required": ["operation"],
        "additionalProperties": False,
    }

    def __init__(
        self,
        *,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        max_write_bytes: int = DEFAULT_MAX_WRITE_BYTES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.max_read_bytes = max_read_bytes
        self.max_write_bytes = max_write_bytes
        self.max_entries = max_entries

    def has_side_effects(self, params: dict[str, Any]) -> bool:
        return params.get("operation") not in READ_OPERATIONS

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params["operation"]
        handler = getattr(self, f"_{operation}")
        result: ToolResult = await handler(params, ctx)
        result.operation = operation
        return result

    # -- reading -------------------------------------------------------------------------------

    async def _read(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_read(_path(params, "path"))
        limit = min(params.get("max_size") or self.max_read_bytes, self.max_read_bytes)
        encoding = _encoding(params)
        data = await asyncio.to_thread(_read_limited, path, limit)
        try:
            content = data.decode(encoding)
        except UnicodeDecodeError:
            raise ToolError(f"{NAME}: '{path}' is not {encoding} text") from None
        return ToolResult(
            result={"path": str(path), "size": len(data), "content": content}, text=content
        )

    async def _list_dir(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_read(_path(params, "path"))
        if not path.is_dir():
            raise ToolError(f"{NAME}: '{path}' is not a folder")
        recursive = bool(params.get("recursive"))
        entries, truncated = await asyncio.to_thread(_list, path, recursive, self.max_entries)
        return ToolResult(
            result={
                "path": str(path),
                "entries": entries,
                "count": len(entries),
                "truncated": truncated,
            },
            text="\n".join(e["name"] for e in entries),
        )

    async def _metadata(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_read(_path(params, "path"))
        try:
            info = await asyncio.to_thread(_stat, path)
        except FileNotFoundError:
            raise ToolError(f"{NAME}: '{path}' does not exist") from None
        return ToolResult(result=info)

    async def _exists(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_read(_path(params, "path"))
        kind = _kind(path) if path.exists() else None
        return ToolResult(
            result={"path": str(path), "exists": kind is not None, "type": kind},
            text="true" if kind else "false",
        )

    # -- writing -------------------------------------------------------------------------------

    async def _write(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_write(_path(params, "path"))
        data = self._content(params)
        if path.exists() and not params.get("overwrite", True):
            raise ToolError(f"{NAME}: '{path}' exists and overwrite is false")
        await asyncio.to_thread(_write_file, path, data)
        return ToolResult(
            result={"path": str(path), "bytes_written": len(data)},
            text=f"wrote {len(data)} bytes to {path}",
        )

    async def _append(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_write(_path(params, "path"))
        data = self._content(params)
        size = path.stat().st_size if path.is_file() else 0
        if size + len(data) > self.max_write_bytes:
            raise ToolError(
                f"{NAME}: appending to '{path}' would make it {size + len(data)} bytes; "
                f"the limit is {self.max_write_bytes}"
            )
        await asyncio.to_thread(_append_file, path, data)
        return ToolResult(
            result={"path": str(path), "bytes_appended": len(data)},
            text=f"appended {len(data)} bytes to {path}",
        )

    async def _delete(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_write(_path(params, "path"))
        roots = ctx.permissions.file_write_roots
        if any(path == Path(os.path.realpath(os.path.expanduser(r))) for r in roots):
            raise ToolError(f"{NAME}: '{path}' is a write root and cannot be deleted")
        if not path.exists():
            raise ToolError(f"{NAME}: '{path}' does not exist")
        kind = _kind(path)
        if kind == "directory" and not params.get("recursive") and any(path.iterdir()):
            raise param_error(NAME, "recursive", f"must be true to delete the non-empty '{path}'")
        await asyncio.to_thread(_remove, path)
        return ToolResult(
            result={"path": str(path), "deleted": True, "type": kind}, text=f"deleted {path}"
        )

    async def _create_dir(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = ctx.check_write(_path(params, "path"))
        existed = path.is_dir()
        try:
            await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise ToolError(f"{NAME}: cannot create '{path}': {exc.strerror or exc}") from None
        return ToolResult(
            result={"path": str(path), "created": not existed}, text=f"created {path}"
        )

    async def _copy(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        source = ctx.check_read(_path(params, "source_path"))
        target = ctx.check_write(_path(params, "target_path"))
        self._check_transfer(source, target, params)
        size = await asyncio.to_thread(_copy, source, target, self.max_write_bytes)
        return ToolResult(
            result={"source_path": str(source), "target_path": str(target), "bytes": size},
            text=f"copied {source} to {target}",
        )

    async def _move(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        source = ctx.check_write(_path(params, "source_path"))
        target = ctx.check_write(_path(params, "target_path"))
        self._check_transfer(source, target, params)
        await asyncio.to_thread(_move, source, target)
        return ToolResult(
            result={"source_path": str(source), "target_path": str(target)},
            text=f"moved {source} to {target}",
        )

    def _check_transfer(self, source: Path, target: Path, params: dict[str, Any]) -> None:
        if not source.exists():
            raise ToolError(f"{NAME}: source '{source}' does not exist")
        if target.exists() and not params.get("overwrite", True):
            raise ToolError(f"{NAME}: target '{target}' exists and overwrite is false")
        if source.is_dir() and target.is_relative_to(source):
            raise ToolError(f"{NAME}: cannot put '{source}' inside itself ('{target}')")

    def _content(self, params: dict[str, Any]) -> bytes:
        content = params.get("input", params.get("content"))
        if content is None:
            raise param_error(NAME, "input", f"is required for operation '{params['operation']}'")
        data = str(content).encode(_encoding(params))
        if len(data) > self.max_write_bytes:
            raise param_error(
                NAME, "input", f"{len(data)} bytes exceeds the limit of {self.max_write_bytes}"
            )
        return data


def _path(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not value:
        raise param_error(NAME, key, f"is required for operation '{params['operation']}'")
    return str(value)


def _encoding(params: dict[str, Any]) -> str:
    import codecs

    encoding = str(params.get("encoding") or "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise param_error(NAME, "encoding", f"unknown encoding {encoding!r}") from None
    return encoding


def _kind(path: Path) -> str:
    return "directory" if path.is_dir() else "file" if path.is_file() else "other"


def _read_limited(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise ToolError(f"{NAME}: '{path}' has {size} bytes; the read limit is {limit}")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ToolError(f"{NAME}: '{path}' does not exist") from None
    except IsADirectoryError:
        raise ToolError(f"{NAME}: '{path}' is a folder; use operation 'list_dir'") from None
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot read '{path}': {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ToolError(f"{NAME}: '{path}' has more than {limit} bytes (the read limit)")
    return data


def _write_file(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except FileNotFoundError:
        raise ToolError(f"{NAME}: the folder of '{path}' does not exist") from None
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot write '{path}': {exc.strerror or exc}") from None


def _append_file(path: Path, data: bytes) -> None:
    try:
        with path.open("ab") as fh:
            fh.write(data)
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot append to '{path}': {exc.strerror or exc}") from None


def _remove(path: Path) -> None:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot delete '{path}': {exc.strerror or exc}") from None


def _copy(source: Path, target: Path, limit: int) -> int:
    size = _tree_size(source) if source.is_dir() else source.stat().st_size
    if size > limit:
        raise ToolError(f"{NAME}: '{source}' has {size} bytes; the write limit is {limit}")
    try:
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot copy '{source}': {exc.strerror or exc}") from None
    return size


def _tree_size(folder: Path) -> int:
    total = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(parent, name)).st_size
    return total


def _move(source: Path, target: Path) -> None:
    try:
        shutil.move(source, target)
    except OSError as exc:
        raise ToolError(f"{NAME}: cannot move '{source}': {exc.strerror or exc}") from None


def _list(path: Path, recursive: bool, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Entries under ``path`` (symlinks listed, never followed), at most ``limit``."""
    entries: list[dict[str, Any]] = []
    for parent, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            if len(entries) >= limit:
                return entries, True
            full = Path(parent) / name
            try:
                info = full.lstat()
            except OSError:
                continue
            entries.append(
                {
                    "name": str(full.relative_to(path)),
                    "path": str(full),
                    "type": _lstat_kind(info.st_mode),
                    "size": info.st_size,
                }
            )
        if not recursive:
            break
    return entries, False


def _lstat_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    return "directory" if stat.S_ISDIR(mode) else "file"


def _stat(path: Path) -> dict[str, Any]:
    info = path.stat()
    return {
        "path": str(path),
        "type": _kind(path),
        "size": info.st_size,
        "modified": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(),
        "accessed": datetime.fromtimestamp(info.st_atime, UTC).isoformat(),
        "permissions": oct(stat.S_IMODE(info.st_mode)),
        "readonly": not os.access(path, os.W_OK),
    }
