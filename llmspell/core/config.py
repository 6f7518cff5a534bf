"""Configuration: TOML files, discovery, environment overrides and validation.

This module is on the startup path of every ``llmspell run``, so it uses only the standard
library: dataclasses and a small validator instead of pydantic (pydantic adds ~60 ms of import
time to a run that takes ~100 ms), and hand-written XDG folders instead of platformdirs
(~20 ms of import time, measured with ``python -X importtime``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmspell.core.errors import ConfigError

ENV_PREFIX = "LLMSPELL_"
SECRET_KEYS = ("api_key", "token", "secret", "password")
REDACTED = "***"


@dataclass
class RuntimeConfig:
    """``[runtime]``: limits of one script run, and how the Lua VM is isolated."""

    cpu_seconds: float = 30.0
    wall_seconds: float = 300.0
    memory_mb: float = 64.0
    output_bytes: int = 1024 * 1024
    isolation: Literal["in-process", "process"] = "in-process"
    library_paths: list[str] = field(default_factory=list)
    max_table_depth: int = 64
    max_table_items: int = 1_000_000
    max_tool_depth: int = 8
    max_cost_usd: float | None = None
    """Dollars one run may spend on model calls before it stops (``BudgetExceeded``)."""
    max_tokens_total: int | None = None
    """Input plus output tokens one run may use before it stops (``BudgetExceeded``)."""


@dataclass
class SecurityConfig:
    """``[security]``: what scripts may reach through tools, and how calls are approved."""

    mode: Literal["auto", "strict", "dry-run"] = "auto"
    file_read_roots: list[str] = field(default_factory=list)
    file_write_roots: list[str] = field(default_factory=list)
    network_allow: list[str] = field(default_factory=list)
    network_deny: list[str] = field(default_factory=list)
    allow_private_network: bool = False
    process_allow: list[str] = field(default_factory=list)
    env_allow: list[str] = field(default_factory=list)
    hook_failure: Literal["open", "closed"] = "open"


@dataclass
class ProviderConfig:
    """``[providers.<name>]``: one configured LLM provider."""

    provider_type: str = "openai"
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = None
    default_model: str | None = None
    timeout: float = 60.0
    max_retries: int = 3
    fallbacks: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class StorageConfig:
    """``[storage]``: where State, sessions, runs and artifacts live."""

    backend: Literal["sqlite", "memory"] = "sqlite"
    path: str | None = None
    cache: bool = False
    """Answer repeated identical model requests from the store (the response cache)."""
    cache_ttl: float = 3600.0
    """Seconds a cached response stays valid."""


@dataclass
class Config:
    """The whole configuration. ``tools`` and ``mcp`` are validated by their own layers."""

    default_provider: str | None = None
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    tools: dict[str, Any] = field(default_factory=dict)
    storage: StorageConfig = field(default_factory=StorageConfig)
    mcp: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """Plain data; secrets replaced by ``***`` unless ``redact`` is false."""
        data = dataclasses.asdict(self)
        data.pop("source", None)
        return redact_secrets(data) if redact else data


def redact_secrets(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced by ``***``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            secret = isinstance(key, str) and any(s in key.lower() for s in SECRET_KEYS)
            is_env_name = isinstance(key, str) and key.lower().endswith("_env")
            out[key] = REDACTED if secret and not is_env_name and item else redact_secrets(item)
        return out
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def user_config_dir() -> Path:
    """The per-user config folder (XDG on Unix, %APPDATA% on Windows)."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "llmspell"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llmspell"


def user_data_dir() -> Path:
    """The per-user data folder (XDG on Unix, %LOCALAPPDATA% on Windows)."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA", str(Path.home() / "AppData" / "Local"))
        return Path(local) / "llmspell"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llmspell"


def discover_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file in discovery order: explicit, $LLMSPELL_CONFIG, ./llmspell.toml,
    ./.llmspell.toml, the user config folder. An explicit path that does not exist is an error."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file '{path}' does not exist")
        return path
    env_path = os.environ.get("LLMSPELL_CONFIG")
    if env_path:
        path = Path(env_path)
        if not path.is_file():
            raise ConfigError(f"config file '{path}' (from $LLMSPELL_CONFIG) does not exist")
        return path
    for candidate in (
        Path("llmspell.toml"),
        Path(".llmspell.toml"),
        user_config_dir() / "config.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None,
    *,
    discover: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build a validated ``Config``.

    ``source`` may be a path to a TOML file, a mapping of the same shape, a ``Config`` (returned
    as is), or ``None`` to discover the file (when ``discover`` is true). Environment variables
    ``LLMSPELL_<SECTION>__<KEY>`` override file values in every case but a ``Config``.
    """
    if isinstance(source, Config):
        return source
    origin = "<config>"
    data: dict[str, Any] = {}
    if isinstance(source, Mapping):
        data = _deep_copy(source)
        origin = "<dict>"
    else:
        path = discover_config_file(source) if (source is not None or discover) else None
        if path is not None:
            origin = str(path)
            data = read_toml(path)
    env = os.environ if environ is None else environ
    _apply_env_overrides(data, env)
    config: Config = _build(Config, data, origin, "")
    config.source = origin if origin not in ("<config>", "<dict>") else None
    return config


def read_toml(path: Path) -> dict[str, Any]:
    # Imported here: a run without a config file (``llmspell run hello.lua``) never parses TOML,
    # and tomllib's import is about 3 ms of that command's ~50 ms of its own (bench_startup.py).
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def parse_env_value(raw: str) -> Any:
    """Read an override as a TOML value when it is one (``5``, ``true``, ``["a"]``), else text."""
    import tomllib

    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if len(parts) < 2:
            continue
        target = data
        for part in parts[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"environment variable {name}: '{part}' is not a table")
            target = nxt
        target[parts[-1]] = parse_env_value(raw)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _build(cls: type, data: Any, origin: str, prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: '{prefix or '<top>'}' must be a table, got {_tname(data)}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - names)
    if unknown:
        where = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(
            f"{origin}: unknown key '{where}' (known keys: {', '.join(sorted(names))})"
        )
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        kwargs[key] = _coerce(hints[key], value, origin, path)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, origin: str, path: str) -> Any:
    origin_type = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, origin, path)  # type: ignore[arg-type]
    if origin_type in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, origin, path)
    if origin_type is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{origin}: '{path}' must be one of {choices}, got {value!r}")
        return value
    if origin_type is list:
        if not isinstance(value, list):
            raise ConfigError(f"{origin}: '{path}' must be a list, got {_tname(value)}")
        return [_coerce(args[0], v, origin, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin_type is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{origin}: '{path}' must be a table, got {_tname(value)}")
        return {k: _coerce(args[1], v, origin, f"{path}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{origin}: '{path}' must be true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{origin}: '{path}' must be a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{origin}: '{path}' must not be negative, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{origin}: '{path}' must be an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"{origin}: '{path}' must not be negative, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: '{path}' must be a string, got {_tname(value)}")
        return value
    raise ConfigError(f"{origin}: '{path}' has an unsupported type")  # pragma: no cover


def _tname(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
