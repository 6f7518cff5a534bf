"""file-search: find text (or a regular expression) in files, or files by name, under a folder
inside the read roots. Symlinks are not followed, files that resolve outside the read roots
are skipped, and binary and oversized files are skipped."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from llmspell.core.errors import PermissionDenied, ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error
from llmspell.tools.permissions import PermissionPolicy

NAME = "file-search"
DEFAULT_MAX_RESULTS = 100
DEFAULT_MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 100_000
MAX_LINE_CHARS = 1000
_BINARY_PROBE = 8192


@dataclass
class _Search:
    root: Path
    policy: PermissionPolicy
    file_pattern: str
    recursive: bool
    include_hidden: bool
    max_results: int
    max_file_bytes: int
    matches: list[dict[str, Any]] = field(default_factory=list)
    files_searched: int = 0
    truncated: bool = False


class FileSearchTool(Tool):
    """Search file contents or file names under the read roots."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Search for text or a regular expression in files under a folder, or find files whose "
        "names match a glob pattern."
    )
    category: ClassVar[str] = "filesystem"
    security_level: ClassVar[SecurityLevel] = "restricted"
    tags: ClassVar[tuple[str, ...]] = ("file", "search", "grep")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["search", "find_files"], "default": "search"},
            "path": {"type": "string", "minLength": 1, "description": "Folder or file"},
            "input": {
                "type": "string",
                "minLength": 1,
                "description": "Text to find (search) or a name glob such as '*.md' (find_files)",
            },
            "pattern": {"type": "string", "minLength": 1, "description": "Same as input"},
            "regex": {"type": "boolean", "default": False},
            "case_sensitive": {"type": "boolean", "default": True},
            "file_pattern": {"type": "string", "default": "*", "description": "Name glob"},
            "recursive": {"type": "boolean", "default": True},
            "include_hidden": {"type": "boolean", "default": False},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 10_000},
            "max_file_size": {"type": "integer", "minimum": 1},
        },
        "required": ["path"],
        "additionalProperties": False,
    }

    def __init__(
        self,
        *,
        max_results: int = DEFAULT_MAX_RESULTS,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.max_results = max_results
        self.max_file_bytes = max_file_bytes

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation", "search")
        root = ctx.check_read(params["path"])
        if not root.exists():
            raise ToolError(f"{NAME}: '{params['path']}' does not exist")
        query = params.get("input", params.get("pattern"))
        if query is None:
            raise param_error(NAME, "input", "is required: the text or name pattern to find")
        search = _Search(
            root=root,
            policy=ctx.permissions,
            file_pattern=params.get("file_pattern", "*"),
            recursive=params.get("recursive", True),
            include_hidden=params.get("include_hidden", False),
            max_results=min(params.get("max_results", self.max_results), 10_000),
            max_file_bytes=min(params.get("max_file_size", self.max_file_bytes), 10**9),
        )
        if operation == "find_files":
            search.file_pattern = query
            await asyncio.to_thread(_find_files, search, params.get("case_sensitive", True))
            text = "\n".join(m["path"] for m in search.matches)
        else:
            regex = _compile(query, params.get("regex", False), params.get("case_sensitive", True))
            await asyncio.to_thread(_search_contents, search, regex)
            text = "\n".join(f"{m['path']}:{m['line_number']}: {m['line']}" for m in search.matches)
        return ToolResult(
            result={
                "matches": search.matches,
                "count": len(search.matches),
                "files_searched": search.files_searched,
                "truncated": search.truncated,
            },
            text=text,
            operation=operation,
        )


def _compile(query: str, regex: bool, case_sensitive: bool) -> re.Pattern[str]:
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        return re.compile(query if regex else re.escape(query), flags)
    except re.error as exc:
        raise param_error(NAME, "input", f"invalid regular expression: {exc}") from None


def _candidates(search: _Search) -> list[Path]:
    """Files under the root that match ``file_pattern`` and resolve inside the read roots."""
    if search.root.is_file():
        return [search.root]
    found: list[Path] = []
    for parent, dirs, files in os.walk(search.root):
        if not search.include_hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        dirs.sort()
        for name in sorted(files):
            if not search.include_hidden and name.startswith("."):
                continue
            if not fnmatch.fnmatch(name, search.file_pattern):
                continue
            full = Path(parent) / name
            if full.is_symlink() and not _readable(search.policy, full):
                continue
            found.append(full)
            if len(found) >= MAX_FILES:
                return found
        if not search.recursive:
            break
    return found


def _readable(policy: PermissionPolicy, path: Path) -> bool:
    try:
        policy.check_read(str(path))
    except PermissionDenied:
        return False
    return True


def _find_files(search: _Search, case_sensitive: bool) -> None:
    pattern = search.file_pattern if case_sensitive else search.file_pattern.lower()
    search.file_pattern = "*"
    for path in _candidates(search):
        search.files_searched += 1
        name = path.name if case_sensitive else path.name.lower()
        if fnmatch.fnmatchcase(name, pattern):
            if len(search.matches) >= search.max_results:
                search.truncated = True
                return
            search.matches.append({"path": str(path), "name": path.name})


def _search_contents(search: _Search, regex: re.Pattern[str]) -> None:
    for path in _candidates(search):
        try:
            if path.stat().st_size > search.max_file_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:_BINARY_PROBE]:
            continue
        search.files_searched += 1
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            found = regex.search(line)
            if found is None:
                continue
            if len(search.matches) >= search.max_results:
                search.truncated = True
                return
            search.matches.append(
                {
                    "path": str(path),
                    "line_number": number,
                    "column": found.start() + 1,
                    "line": line[:MAX_LINE_CHARS],
                }
            )
