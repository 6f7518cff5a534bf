"""``require``: finds Lua source modules in the script's folder and the configured library paths."""

from __future__ import annotations

import re
from pathlib import Path

from llmspell.core.errors import SandboxViolation, ValidationError
from llmspell_utils.fs import PathEscapeError, resolve_within

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MAX_MODULE_BYTES = 4 * 1024 * 1024


def find_module(
    name: str, script_folder: Path | None, library_paths: list[str]
) -> tuple[bytes, str]:
    """The source of module ``name`` (``a.b`` is ``a/b.lua`` or ``a/b/init.lua``) and its path."""
    if not _MODULE_NAME.match(name):
        raise ValidationError(f"require: invalid module name '{name}'")
    relative = name.replace(".", "/")
    roots = ([script_folder] if script_folder is not None else []) + [
        Path(p) for p in library_paths
    ]
    tried = []
    for root in roots:
        for candidate in (f"{relative}.lua", f"{relative}/init.lua"):
            try:
                path = resolve_within(root, candidate)
            except PathEscapeError:
                raise SandboxViolation(
                    f"require: module '{name}' resolves outside '{root}'"
                ) from None
            tried.append(str(path))
            if path.is_file():
                data = path.read_bytes()
                if len(data) > MAX_MODULE_BYTES:
                    raise ValidationError(f"require: module '{name}' is larger than 4 MiB")
                if data.startswith(b"\x1b"):
                    raise SandboxViolation(f"require: module '{name}' is a binary chunk")
                return data, _display(path, root)
    searched = "\n\t".join(tried) if tried else "(no module folders: the script was given as text)"
    raise ValidationError(f"require: module '{name}' not found:\n\t{searched}")


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)
