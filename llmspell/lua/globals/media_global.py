"""``Media``: images, audio, video and binary values that agents accept in ``input.media``.

A value is a plain table (``{type = "image", format = "png", path = ...}``), checked here
(format, exactly one source, size limits) with the core media types. A file is referred to by
its resolved path, after the run's file permissions allowed reading it; its bytes are read only
when an agent sends it. Bytes given from Lua (``data``) travel as base64 text.
"""

from __future__ import annotations

import base64
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmspell.core.errors import ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge

KINDS = ("image", "audio", "video", "binary")
_SOURCES = ("path", "base64", "data", "url")
_KEYS = {*_SOURCES, "format", "metadata", "mime_type", "filename"}


class RunMedia:
    """The Media calls of one run (file paths are checked against its permissions)."""

    def __init__(self, bridge: Bridge) -> None:
        self._run: Any = bridge.run  # type: ignore[attr-defined]

    def make(self, kind: str, spec: Any) -> dict[str, Any]:
        where = f"Media.{kind}"
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict):
            raise ValidationError(
                f"{where}: expected a table {{path | base64 | url, format}}, got {_tname(spec)}"
            )
        unknown = sorted(set(spec) - _KEYS)
        if unknown:
            raise ValidationError(
                f"{where}: unknown field '{unknown[0]}' (known: {', '.join(sorted(_KEYS))})"
            )
        data: dict[str, Any] = {"type": kind, **spec}
        if isinstance(data.get("data"), str):
            raw = data.pop("data").encode("utf-8", "surrogateescape")
            data["base64"] = base64.b64encode(raw).decode("ascii")
        if isinstance(data.get("path"), str):
            data["path"] = self._readable(data["path"], where)
        if kind != "binary" and "format" not in data:
            guessed = _extension(data.get("path") or _url_path(data.get("url")))
            if guessed:
                data["format"] = guessed
        if kind == "binary" and isinstance(data.get("path"), str):
            data.setdefault("filename", PurePosixPath(data["path"]).name)
        return _checked(data, where)

    def from_file(self, path: Any, kind: Any = None) -> dict[str, Any]:
        """Media for a file, its kind and format taken from its extension (else binary)."""
        from llmspell.core.types import media_from_path

        if not isinstance(path, str) or not path:
            raise ValidationError(f"Media.from_file: expected a file path, got {_tname(path)}")
        if kind is not None and kind not in KINDS:
            raise ValidationError(f"Media.from_file: kind must be one of {', '.join(KINDS)}")
        resolved = self._readable(path, "Media.from_file")
        try:
            media = media_from_path(resolved, kind=kind)
        except ValidationError as exc:
            raise ValidationError(f"Media.from_file: {exc}") from None
        return _plain(media)

    def _readable(self, path: str, where: str) -> str:
        """The resolved path, when the run may read it and it is a file."""
        resolved = self._run.tools.context.check_read(path)
        if not resolved.is_file():
            raise ValidationError(f"{where}: '{path}' is not a file")
        return str(resolved)


def _checked(data: dict[str, Any], where: str) -> dict[str, Any]:
    from llmspell.core.types import parse_media

    try:
        return _plain(parse_media(data))
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None


def _plain(media: Any) -> dict[str, Any]:
    """The table a script holds: sources other than bytes as given, bytes as base64."""
    data: dict[str, Any] = media.model_dump(exclude_none=True)
    raw = data.pop("data", None)
    if raw is not None:
        data["base64"] = base64.b64encode(raw).decode("ascii")
    if not data.get("metadata"):
        data.pop("metadata", None)
    return data


def _extension(path: Any) -> str | None:
    if not isinstance(path, str):
        return None
    suffix = PurePosixPath(path).suffix.lstrip(".").lower()
    return suffix or None


def _url_path(url: Any) -> str | None:
    return urlsplit(url).path if isinstance(url, str) else None


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


def install(bridge: Bridge) -> None:
    media = RunMedia(bridge)
    fns = {kind: bridge.sync(_maker(media, kind), f"Media.{kind}") for kind in KINDS}
    from_file = bridge.sync(media.from_file, "Media.from_file")
    fns["from_file"] = from_file
    fns["fromFile"] = from_file
    bridge.define_global("Media", fns)


def _maker(media: RunMedia, kind: str) -> Any:
    def make(spec: Any = None) -> dict[str, Any]:
        return media.make(kind, spec)

    return make
