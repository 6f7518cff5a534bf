"""The permission policy: which tools may run, and which files, hosts, executables and
environment variables the tools may reach.

Everything is denied unless configured: no file roots means no file access, an empty
``network_allow`` means no network access (``"*"`` allows every public host), an empty
``process_allow`` means no processes, an empty ``env_allow`` means no environment variables.
Every denial raises ``PermissionDenied`` with a message that names the rule that denied it,
e.g. ``write to '/etc/x' is outside the write roots ['/srv/out'] ([security] file_write_roots)``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import os
import shutil
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

from llmspell.core.errors import ConfigError, PermissionDenied, ToolError
from llmspell.tools.base import Mode, SecurityLevel, ToolContext
from llmspell_utils.fs import PathEscapeError, normalize_path, resolve_within

if TYPE_CHECKING:
    from llmspell.core.config import Config

ToolRule = Literal["allow", "deny", "ask"]
Approval = Literal["yes", "no", "always"]
Approver = Callable[[str, dict[str, Any], str], Awaitable[str]]
"""``async approver(tool, params, reason) -> "yes" | "no" | "always"``."""

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
ALLOWED_SCHEMES = ("http", "https")
_RULES: tuple[str, ...] = get_args(ToolRule)
_MODES: tuple[str, ...] = get_args(Mode)


async def deny_all(tool: str, params: dict[str, Any], reason: str) -> str:
    """The approver of a non-interactive run: every ``ask`` is answered ``no``."""
    return "no"


def canonical_tool_name(name: str) -> str:
    """Tool names in rules are matched in their kebab-case form."""
    return name.replace("_", "-")


@dataclass
class PermissionPolicy:
    """What tool calls may do in one run. Build it with ``from_config`` or directly (tests)."""

    mode: Mode = "auto"
    file_read_roots: list[str] = field(default_factory=list)
    file_write_roots: list[str] = field(default_factory=list)
    network_allow: list[str] = field(default_factory=list)
    network_deny: list[str] = field(default_factory=list)
    allow_private_network: bool = False
    process_allow: list[str] = field(default_factory=list)
    env_allow: list[str] = field(default_factory=list)
    tool_rules: dict[str, ToolRule] = field(default_factory=dict)
    approver: Approver = deny_all
    dry_run_log: list[dict[str, Any]] = field(default_factory=list)
    approved_always: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ConfigError(
                f"security mode must be one of {', '.join(_MODES)}, got {self.mode!r}"
            )
        self.tool_rules = {canonical_tool_name(k): v for k, v in self.tool_rules.items()}
        self._read_roots = [normalize_path(root) for root in self.file_read_roots]
        self._write_roots = [normalize_path(root) for root in self.file_write_roots]

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        mode: Mode | None = None,
        approver: Approver | None = None,
    ) -> PermissionPolicy:
        """The policy of ``config.security`` and ``config.tools["permissions"]``.

        ``mode`` overrides the configured mode (``llmspell run --mode``); ``approver`` answers
        ``ask`` rules (default: deny, as in a non-interactive run).
        """
        sec = config.security
        rules = config.tools.get("permissions", {})
        if not isinstance(rules, Mapping):
            raise ConfigError("'tools.permissions' must be a table of tool name = allow|deny|ask")
        for name, rule in rules.items():
            if rule not in _RULES:
                raise ConfigError(
                    f"'tools.permissions.{name}' must be one of {', '.join(_RULES)}, got {rule!r}"
                )
        return cls(
            mode=mode or sec.mode,
            file_read_roots=list(sec.file_read_roots),
            file_write_roots=list(sec.file_write_roots),
            network_allow=list(sec.network_allow),
            network_deny=list(sec.network_deny),
            allow_private_network=sec.allow_private_network,
            process_allow=list(sec.process_allow),
            env_allow=list(sec.env_allow),
            tool_rules=dict(rules),
            approver=approver or deny_all,
        )

    def context(
        self, *, mode: Mode | None = None, run_id: str | None = None, timeout: float | None = None
    ) -> ToolContext:
        """A ``ToolContext`` for a call under this policy (in the policy's mode by default)."""
        return ToolContext(permissions=self, mode=mode or self.mode, run_id=run_id, timeout=timeout)

    # -- summaries ---------------------------------------------------------------------------

    def file_access_allowed(self) -> bool:
        """Whether any file can be read or written (some root is configured)."""
        return bool(self._read_roots or self._write_roots)

    def network_access_allowed(self) -> bool:
        """Whether any host can be reached (``network_allow`` is not empty)."""
        return bool(self.network_allow)

    def describe(self) -> dict[str, Any]:
        """Plain data for ``Config.getPermissions()``."""
        return {
            "mode": self.mode,
            "file_read_roots": [str(p) for p in self._read_roots],
            "file_write_roots": [str(p) for p in self._write_roots],
            "network_allow": list(self.network_allow),
            "network_deny": list(self.network_deny),
            "allow_private_network": self.allow_private_network,
            "process_allow": list(self.process_allow),
            "env_allow": list(self.env_allow),
            "tools": dict(self.tool_rules),
            "file_access_allowed": self.file_access_allowed(),
            "network_access_allowed": self.network_access_allowed(),
            "process_access_allowed": bool(self.process_allow),
        }

    # -- per-tool rules and modes ------------------------------------------------------------

    def tool_rule(self, tool: str) -> ToolRule:
        """The configured rule for ``tool`` (``allow`` when none is configured)."""
        return self.tool_rules.get(canonical_tool_name(tool), "allow")

    def check_tool_allowed(self, tool: str) -> None:
        """Raises ``PermissionDenied`` when the tool is denied outright."""
        if self.tool_rule(tool) == "deny":
            raise PermissionDenied(
                f"{tool}: the tool is denied ([tools.permissions] {canonical_tool_name(tool)}"
                ' = "deny")'
            )

    async def approve(
        self, tool: str, security_level: SecurityLevel, params: dict[str, Any], mode: Mode
    ) -> None:
        """Apply the tool rule and the mode; ask the approver when the result is ``ask``.

        ``strict`` turns every call of a restricted or privileged tool into ``ask``. An answer
        ``always`` approves the tool for the rest of the run.
        """
        self.check_tool_allowed(tool)
        rule = self.tool_rule(tool)
        if rule == "ask":
            reason = f'[tools.permissions] {canonical_tool_name(tool)} = "ask"'
        elif mode == "strict" and security_level != "safe":
            reason = f"strict mode asks before every {security_level} tool"
        else:
            return
        key = canonical_tool_name(tool)
        if key in self.approved_always:
            return
        answer = await self.approver(tool, params, reason)
        if answer == "always":
            self.approved_always.add(key)
        elif answer != "yes":
            raise PermissionDenied(f"{tool}: the call was not approved ({reason})")

    def record_dry_run(self, tool: str, params: dict[str, Any]) -> None:
        """Note a call that dry-run mode did not execute."""
        self.dry_run_log.append({"tool": tool, "params": params})

    # -- files ---------------------------------------------------------------------------------

    def check_read(self, path: str) -> Path:
        """The resolved path when it lies under a read root (symlinks followed)."""
        return self._within(path, self._read_roots, "read", "file_read_roots")

    def check_write(self, path: str) -> Path:
        """The resolved path when it lies under a write root (symlinks followed)."""
        return self._within(path, self._write_roots, "write to", "file_write_roots")

    def _within(self, path: str, roots: list[Path], action: str, key: str) -> Path:
        if not isinstance(path, str) or not path:
            raise ToolError("a file path must be a non-empty string")
        if "\x00" in path:
            raise PermissionDenied(f"{action} {path!r}: the path contains a NUL byte")
        target = normalize_path(path)
        for root in roots:
            try:
                return resolve_within(root, target)
            except PathEscapeError:
                continue
        listed = "[" + ", ".join(repr(str(r)) for r in roots) + "]"
        kind = "read" if key == "file_read_roots" else "write"
        if not roots:
            raise PermissionDenied(
                f"{action} '{path}' is not allowed: no {kind} roots are configured "
                f"([security] {key})"
            )
        raise PermissionDenied(
            f"{action} '{path}' is outside the {kind} roots {listed} ([security] {key})"
        )

    # -- network -------------------------------------------------------------------------------

    async def check_url(self, url: str) -> None:
        """Scheme, host allow/deny lists, then every address the host resolves to."""
        parts = urlsplit(url)
        if parts.scheme not in ALLOWED_SCHEMES:
            raise PermissionDenied(
                f"request to '{url}': only http and https URLs are allowed, got "
                f"{parts.scheme or 'no scheme'!r}"
            )
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise ToolError(f"URL '{url}' has no host")
        for pattern in self.network_deny:
            if fnmatch.fnmatchcase(host, pattern.lower()):
                raise PermissionDenied(
                    f"request to '{host}' matches the deny pattern {pattern!r} "
                    "([security] network_deny)"
                )
        if not any(fnmatch.fnmatchcase(host, p.lower()) for p in self.network_allow):
            listed = "[" + ", ".join(repr(p) for p in self.network_allow) + "]"
            raise PermissionDenied(
                f"request to '{host}' is not in the allowed hosts {listed} "
                "([security] network_allow)"
            )
        explicit = host in {p.rstrip(".").lower() for p in self.network_allow}
        if self.allow_private_network or explicit:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ToolError(f"URL '{url}' has an invalid port") from None
        for address in await resolve_host(host, port):
            _check_public(host, address)

    # -- processes and environment -------------------------------------------------------------

    def check_process(self, executable: str) -> str:
        """The absolute path of ``executable`` when the allow-list names it.

        An entry that is a bare name allows that name as found on ``PATH``; an entry that is a
        path allows exactly that file. Names are never interpreted by a shell.
        """
        if not self.process_allow:
            raise PermissionDenied(
                f"running '{executable}' is not allowed: no executables are allowed "
                "([security] process_allow)"
            )
        resolved = _which(executable)
        for entry in self.process_allow:
            if entry == executable and not _is_path(entry):
                if resolved is None:
                    raise ToolError(f"executable '{executable}' was not found on PATH")
                return resolved
            by_path = _is_path(entry) or _is_path(executable)
            if by_path and resolved is not None and _which(entry) == resolved:
                return resolved
        listed = "[" + ", ".join(repr(p) for p in self.process_allow) + "]"
        raise PermissionDenied(
            f"running '{executable}' is not allowed: it is not in {listed} "
            "([security] process_allow)"
        )

    def check_env(self, name: str) -> None:
        """Raises ``PermissionDenied`` unless a pattern of ``env_allow`` matches ``name``."""
        if not any(fnmatch.fnmatchcase(name, p) for p in self.env_allow):
            listed = "[" + ", ".join(repr(p) for p in self.env_allow) + "]"
            raise PermissionDenied(
                f"reading environment variable '{name}' is not allowed: it is not in {listed} "
                "([security] env_allow)"
            )

    def allowed_env_names(self, names: Iterable[str]) -> list[str]:
        """The subset of ``names`` that ``env_allow`` matches, sorted."""
        return sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in self.env_allow))


async def resolve_host(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve host '{host}': {exc.strerror}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _check_public(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        what = "a cloud metadata address"
    elif address.is_loopback:
        what = "a loopback address"
    elif address.is_link_local:
        what = "a link-local address"
    elif address.is_private:
        what = "a private address"
    elif not address.is_global:
        what = "a non-public address"
    else:
        return
    raise PermissionDenied(
        f"request to '{host}' resolves to {address}, {what} (allow with [security] "
        "allow_private_network or list the host in network_allow)"
    )


def _is_path(name: str) -> bool:
    return os.sep in name or bool(os.altsep and os.altsep in name)


def _which(executable: str) -> str | None:
    found = shutil.which(executable)
    return str(Path(found).resolve()) if found else None
