from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import ConfigError, PermissionDenied, ToolError
from llmspell.tools.permissions import PermissionPolicy


def policy_for(**security: Any) -> PermissionPolicy:
    return PermissionPolicy.from_config(load_config({"security": security}, discover=False))


# -- files ----------------------------------------------------------------------------------


def test_default_policy_denies_files_and_names_the_rule(tmp_path: Path) -> None:
    policy = PermissionPolicy()
    with pytest.raises(PermissionDenied, match=r"no read roots .*\[security\] file_read_roots"):
        policy.check_read(str(tmp_path / "a.txt"))
    assert not policy.file_access_allowed()
    assert not policy.network_access_allowed()


def test_read_and_write_roots_are_separate(tmp_path: Path) -> None:
    readable, writable = tmp_path / "in", tmp_path / "out"
    readable.mkdir()
    writable.mkdir()
    policy = policy_for(file_read_roots=[str(readable)], file_write_roots=[str(writable)])
    assert policy.check_read(str(readable / "a")) == (readable / "a").resolve()
    assert policy.check_write(str(writable / "b")) == (writable / "b").resolve()
    with pytest.raises(PermissionDenied, match=r"outside the write roots .*file_write_roots"):
        policy.check_write(str(readable / "a"))
    with pytest.raises(PermissionDenied, match=r"outside the read roots .*file_read_roots"):
        policy.check_read(str(writable / "b"))


def test_traversal_is_caught(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    policy = policy_for(file_read_roots=[str(root)])
    with pytest.raises(PermissionDenied, match="outside the read roots"):
        policy.check_read(str(root / ".." / "secret.txt"))
    with pytest.raises(PermissionDenied, match="outside the read roots"):
        policy.check_read("/etc/passwd")


def test_symlink_escape_is_caught(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    (root / "link").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    policy = policy_for(file_read_roots=[str(root)], file_write_roots=[str(root)])
    for path in (root / "link" / "secret.txt", root / "file-link"):
        with pytest.raises(PermissionDenied):
            policy.check_read(str(path))
    with pytest.raises(PermissionDenied):
        policy.check_write(str(root / "link" / "new.txt"))


def test_relative_paths_are_taken_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    policy = policy_for(file_read_roots=["data"])
    assert policy.check_read("data/x.txt") == (tmp_path / "data" / "x.txt").resolve()
    with pytest.raises(PermissionDenied):
        policy.check_read("x.txt")


# -- network --------------------------------------------------------------------------------


async def test_empty_allow_list_denies_network() -> None:
    with pytest.raises(PermissionDenied, match=r"not in the allowed hosts \[\].*network_allow"):
        await PermissionPolicy().check_url("https://example.com/")


async def test_host_allow_and_deny_globs() -> None:
    policy = policy_for(
        network_allow=["*.example.com", "93.184.215.14"], network_deny=["bad.example.com"]
    )
    await policy.check_url("https://93.184.215.14/x")
    with pytest.raises(PermissionDenied, match=r"deny pattern 'bad.example.com'.*network_deny"):
        await policy.check_url("https://bad.example.com/")
    with pytest.raises(PermissionDenied, match="not in the allowed hosts"):
        await policy.check_url("https://example.org/")


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("http://127.0.0.1:8080/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.5/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.10.1/", "link-local"),
        ("http://0.0.0.0/", "private"),
        ("http://100.64.0.1/", "non-public"),
    ],
)
async def test_private_addresses_are_denied(url: str, what: str) -> None:
    policy = policy_for(network_allow=["*"])
    with pytest.raises(PermissionDenied, match=f"{what} address.*allow_private_network"):
        await policy.check_url(url)


async def test_private_address_is_checked_after_dns_resolution() -> None:
    policy = policy_for(network_allow=["*"])
    with pytest.raises(PermissionDenied, match=r"'localhost' resolves to .*loopback"):
        await policy.check_url("http://localhost:9/")


async def test_private_addresses_allowed_by_flag_or_explicit_host() -> None:
    await policy_for(network_allow=["*"], allow_private_network=True).check_url(
        "http://localhost:9/"
    )
    await policy_for(network_allow=["localhost"]).check_url("http://localhost:9/")
    with pytest.raises(PermissionDenied):
        await policy_for(network_allow=["local*"]).check_url("http://localhost:9/")


async def test_only_http_schemes() -> None:
    policy = policy_for(network_allow=["*"])
    with pytest.raises(PermissionDenied, match="only http and https"):
        await policy.check_url("file:///etc/passwd")


async def test_unresolvable_host_is_a_tool_error() -> None:
    policy = policy_for(network_allow=["*"])
    with pytest.raises(ToolError, match=r"cannot resolve host 'no-such-host.invalid'"):
        await policy.check_url("http://no-such-host.invalid/")


# -- processes and environment --------------------------------------------------------------


def test_processes_are_off_by_default() -> None:
    with pytest.raises(PermissionDenied, match=r"no executables are allowed.*process_allow"):
        PermissionPolicy().check_process("echo")


def test_process_allow_list_by_name_and_path() -> None:
    echo = shutil.which("echo")
    assert echo is not None
    policy = policy_for(process_allow=["echo", sys.executable])
    assert policy.check_process("echo") == str(Path(echo).resolve())
    assert policy.check_process(echo) == str(Path(echo).resolve())
    assert policy.check_process(sys.executable) == str(Path(sys.executable).resolve())
    with pytest.raises(PermissionDenied, match=r"'sh' is not allowed.*process_allow"):
        policy.check_process("sh")
    with pytest.raises(PermissionDenied):
        policy.check_process("echo hi; rm -rf /")


def test_process_allowed_by_name_but_missing_is_a_tool_error() -> None:
    policy = policy_for(process_allow=["no-such-program-xyz"])
    with pytest.raises(ToolError, match="not found on PATH"):
        policy.check_process("no-such-program-xyz")


def test_env_allow_list_with_globs() -> None:
    policy = policy_for(env_allow=["APP_*", "HOME"])
    policy.check_env("APP_MODE")
    policy.check_env("HOME")
    with pytest.raises(PermissionDenied, match=r"'SECRET_KEY' is not allowed.*env_allow"):
        policy.check_env("SECRET_KEY")
    assert policy.allowed_env_names(["APP_A", "PATH", "HOME", "APPX"]) == ["APP_A", "HOME"]


# -- tool rules and modes -------------------------------------------------------------------


def test_tool_rules_from_config_and_bad_rule() -> None:
    config = load_config({"tools": {"permissions": {"file_operations": "deny"}}}, discover=False)
    policy = PermissionPolicy.from_config(config)
    assert policy.tool_rule("file-operations") == "deny"
    with pytest.raises(PermissionDenied, match=r'\[tools.permissions\] file-operations = "deny"'):
        policy.check_tool_allowed("file-operations")
    bad = load_config({"tools": {"permissions": {"calculator": "maybe"}}}, discover=False)
    with pytest.raises(ConfigError, match=r"tools.permissions.calculator"):
        PermissionPolicy.from_config(bad)


async def test_ask_is_denied_without_an_approver() -> None:
    policy = PermissionPolicy(tool_rules={"calculator": "ask"})
    with pytest.raises(PermissionDenied, match=r"not approved .*calculator = \"ask\""):
        await policy.approve("calculator", "safe", {}, "auto")


async def test_approver_answers_yes_no_always() -> None:
    answers = ["yes", "no", "always"]
    asked: list[tuple[str, str]] = []

    async def approver(tool: str, params: dict[str, Any], reason: str) -> str:
        asked.append((tool, reason))
        return answers.pop(0)

    policy = PermissionPolicy(tool_rules={"t": "ask"}, approver=approver)
    await policy.approve("t", "safe", {}, "auto")
    with pytest.raises(PermissionDenied):
        await policy.approve("t", "safe", {}, "auto")
    await policy.approve("t", "safe", {}, "auto")
    await policy.approve("t", "safe", {}, "auto")
    assert len(asked) == 3


async def test_strict_mode_asks_for_restricted_and_privileged_tools_only() -> None:
    policy = PermissionPolicy(mode="strict")
    await policy.approve("calculator", "safe", {}, "strict")
    with pytest.raises(PermissionDenied, match="strict mode asks before every restricted tool"):
        await policy.approve("http-requester", "restricted", {}, "strict")
    with pytest.raises(PermissionDenied, match="privileged"):
        await policy.approve("process-executor", "privileged", {}, "strict")
    await policy.approve("http-requester", "restricted", {}, "auto")


def test_mode_override_and_context() -> None:
    config = load_config({"security": {"mode": "strict"}}, discover=False)
    assert PermissionPolicy.from_config(config).context().mode == "strict"
    policy = PermissionPolicy.from_config(config, mode="dry-run")
    assert policy.context().mode == "dry-run"
    with pytest.raises(ConfigError):
        PermissionPolicy(mode="yolo")  # type: ignore[arg-type]


def test_describe(tmp_path: Path) -> None:
    policy = policy_for(
        file_read_roots=[str(tmp_path)], network_allow=["api.example.com"], env_allow=["HOME"]
    )
    data = policy.describe()
    assert data["file_read_roots"] == [os.path.abspath(tmp_path)]
    assert data["file_write_roots"] == []
    assert data["network_allow"] == ["api.example.com"]
    assert data["file_access_allowed"] is True
    assert data["network_access_allowed"] is True
    assert data["process_access_allowed"] is False
    assert data["mode"] == "auto"
