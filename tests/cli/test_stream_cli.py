"""``--stream`` on a terminal and off it, Ctrl+C, ``llmspell providers`` and ``llmspell chat``."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmspell.cli.main import cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

SLOW_REPLY = """
default_provider = "s"

[storage]
backend = "memory"

[providers.s]
provider_type = "scripted"
options = { replies = [ { text = "alpha beta gamma delta", delay = 0.4, chunk_delay = 0.3 } ] }
"""
SCRIPT = """
local out = Agent.create{name = "teller"}:execute("tell")
print("done: " .. out.text)
"""
SPINNER = b"waiting for the model"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "llmspell.toml"
    config.write_text(SLOW_REPLY)
    script = tmp_path / "tell.lua"
    script.write_text(SCRIPT)
    return config, script


def command(config: Path, script: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llmspell.cli.main",
        "--config",
        str(config),
        "run",
        "--stream",
        str(script),
    ]


def in_terminal(
    argv: list[str], interrupt_after: bytes | None = None
) -> tuple[list[tuple[float, bytes]], int]:
    """Run ``argv`` on a pseudo-terminal; what it wrote, with arrival times, and its status.
    With ``interrupt_after``, Ctrl+C is typed once that text has appeared."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    started = time.monotonic()
    received: list[tuple[float, bytes]] = []
    seen = b""
    interrupted = False
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                break
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            received.append((time.monotonic() - started, data))
            seen += data
            if interrupt_after is not None and not interrupted and interrupt_after in seen:
                os.write(fd, b"\x03")
                interrupted = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return received, os.waitstatus_to_exitcode(status)


def arrival(received: list[tuple[float, bytes]], text: bytes) -> float:
    seen = b""
    for at, data in received:
        seen += data
        if text in seen:
            return at
    raise AssertionError(f"{text!r} never arrived in {seen!r}")


def test_stream_shows_tokens_as_they_arrive_after_a_spinner(files: tuple[Path, Path]) -> None:
    received, status = in_terminal(command(*files))
    output = b"".join(data for _, data in received)
    assert status == 0, output
    assert SPINNER in output
    # The spinner is drawn before the first token and its line is blanked before the token.
    assert output.index(SPINNER) < output.index(b"alpha")
    before_alpha = output[: output.index(b"alpha")]
    assert before_alpha.endswith(b"\r") and before_alpha.rstrip(b"\r").endswith(b" ")
    assert arrival(received, b"delta") - arrival(received, b"alpha") >= 0.5
    assert output.rstrip().endswith(b"alpha beta gamma delta\r\ndone: alpha beta gamma delta")


def test_no_spinner_when_stdout_is_not_a_terminal(files: tuple[Path, Path]) -> None:
    proc = subprocess.run(command(*files), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"alpha beta gamma delta\ndone: alpha beta gamma delta\n"
    assert SPINNER not in proc.stderr


def test_ctrl_c_stops_the_stream_cleanly(files: tuple[Path, Path]) -> None:
    received, status = in_terminal(command(*files), interrupt_after=b"beta")
    output = b"".join(data for _, data in received)
    assert status == 130
    assert b"error[cancelled]: cancelled" in output
    assert b"delta" not in output and b"Traceback" not in output


# --- providers and chat (in process) ---------------------------------------------------------

CHAT_CONFIG = """
default_provider = "s"

[storage]
path = "{db}"

[providers.s]
provider_type = "scripted"
options = {{ echo = true }}

[providers.other]
provider_type = "scripted"
default_model = "other-model"
options = {{ replies = ["from the other model"] }}
"""


@pytest.fixture
def chat_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("LLMSPELL_STORAGE__PATH", raising=False)
    config = tmp_path / "chat.toml"
    config.write_text(CHAT_CONFIG.format(db=tmp_path / "chat.db"))
    return config


def invoke(config: Path, *args: str, input: str = "") -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_providers_command_lists_the_configured_providers(chat_config: Path) -> None:
    output = invoke(chat_config, "providers", "--detailed")
    assert "* scripted/s/scripted  [config]" in output
    assert "  scripted/other/other-model  [config]" in output
    assert "streaming: yes" in output


def test_chat_streams_replies_and_runs_commands(chat_config: Path) -> None:
    lines = [
        "hello there",
        "/history",
        "/save greeting",
        "/clear",
        "/history",
        "/load greeting",
        "/model other",
        "switch",
        "/history",
        "/load",
        "/load nothing",
        "/bogus",
        "/help",
        "/exit",
        "never sent",
    ]
    output = invoke(chat_config, "chat", input="\n".join(lines) + "\n")
    assert output.startswith("hello there\nuser: hello there\nassistant: hello there\n")
    assert "(saved as 'greeting')\n(conversation cleared)\n(loaded 'greeting': 2 messages" in output
    assert "(model: other/other-model)\nfrom the other model\n" in output
    assert "user: switch\nassistant: from the other model\n" in output
    assert "saved: greeting" in output
    assert "nothing is saved as 'nothing'" in output
    assert "unknown command /bogus" in output
    assert "/model [NAME]" in output
    assert "never sent" not in output


def test_chat_with_a_system_prompt_and_a_session_continues(chat_config: Path) -> None:
    invoke(chat_config, "chat", "--session", "daily", "--system", "Be kind.", input="first\n")
    output = invoke(chat_config, "chat", "--session", "daily", input="/history\n")
    assert output == "user: first\nassistant: first\n"
    assert invoke(chat_config, "chat", input="/history\n") == ""


def test_chat_reports_errors_and_goes_on(
    chat_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    output = invoke(chat_config, "chat", input="/model openai/gpt-4o\nstill here\n/model\n")
    assert "error: ConfigError: provider 'openai' needs an API key" in output
    assert "still here\n(model: s/scripted)" in output
