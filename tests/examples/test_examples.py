"""Every example under scripts/examples runs through the CLI, as its header says, and succeeds.

Examples are found automatically: every ``.lua`` file under ``scripts/examples`` except the
modules kept in a ``lib/`` folder. An example declares what it needs in its header comment:

    -- test-args: -- a --k v                        (words after the script path)
    -- test-config: scripts/examples/configs/x.toml  (passed as --config, relative to the repo)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "scripts" / "examples"
ARGS_DIRECTIVE = "test-args:"
CONFIG_DIRECTIVE = "test-config:"


@dataclass
class Header:
    """What an example's header comment declares for its test run."""

    args: list[str] = field(default_factory=list)
    config: str | None = None


def parse_header(source: str) -> Header:
    """Read the directives from the leading comment block (a ``#!`` line may come first)."""
    header = Header()
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#!") or not stripped:
            continue
        if not stripped.startswith("--"):
            break
        comment = stripped[2:].strip()
        if comment.startswith(ARGS_DIRECTIVE):
            header.args = shlex.split(comment[len(ARGS_DIRECTIVE) :])
        elif comment.startswith(CONFIG_DIRECTIVE):
            header.config = comment[len(CONFIG_DIRECTIVE) :].strip()
    return header


def entry_scripts() -> list[Path]:
    return sorted(
        path
        for path in EXAMPLES.rglob("*.lua")
        if "lib" not in path.relative_to(EXAMPLES).parts[:-1]
    )


def hermetic_env(home: Path) -> dict[str, str]:
    """The caller's environment without llmspell settings, with user folders under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def test_parse_header_reads_directives() -> None:
    source = (
        "#!/usr/bin/env llmspell\n"
        "-- An example.\n"
        "--\n"
        "-- test-args: -- a --k 'two words'\n"
        "-- test-config: scripts/examples/configs/x.toml\n"
        "print(1)\n"
        "-- test-args: ignored, not in the header\n"
    )
    header = parse_header(source)
    assert header.args == ["--", "a", "--k", "two words"]
    assert header.config == "scripts/examples/configs/x.toml"
    assert parse_header("print(1)\n") == Header()


def test_lib_modules_are_not_entry_scripts() -> None:
    scripts = entry_scripts()
    assert EXAMPLES / "00-hello.lua" in scripts
    assert EXAMPLES / "06-modules" / "main.lua" in scripts
    assert all("lib" not in path.relative_to(EXAMPLES).parts for path in scripts)


@pytest.mark.parametrize(
    "script", entry_scripts(), ids=lambda path: str(path.relative_to(EXAMPLES))
)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    header = parse_header(script.read_text(encoding="utf-8"))
    command = [sys.executable, "-m", "llmspell.cli.main"]
    if header.config is not None:
        config = ROOT / header.config
        assert config.is_file(), f"{script.name}: test-config {header.config} does not exist"
        command += ["--config", str(config)]
    command += ["run", str(script.relative_to(ROOT)), *header.args]
    proc = subprocess.run(
        command,
        cwd=ROOT,
        env=hermetic_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stderr}"
    assert proc.stdout.strip(), f"no output\n{proc.stderr}"
