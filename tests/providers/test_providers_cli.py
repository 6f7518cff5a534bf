"""``llmspell providers`` and ``llmspell mock-server``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from llmspell.cli.main import cli
from llmspell.providers import registry as registry_module

CONFIG = """
default_provider = "test"

[providers.test]
provider_type = "scripted"
default_model = "script-1"

[providers.oai]
provider_type = "openai"
api_key_env = "LLMSPELL_TEST_NO_SUCH_KEY"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(registry_module, "local_available", lambda: False)
    path = tmp_path / "llmspell.toml"
    path.write_text(CONFIG)
    return path


def test_providers_lists_the_default_first_marked(config_file: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "providers"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("* scripted/test/script-1")
    assert "native/oai/gpt-4o-mini" in lines[1]
    assert "(no API key)" in lines[1]


def test_providers_detailed(config_file: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "providers", "--detailed"])
    assert result.exit_code == 0, result.output
    assert "key variable: LLMSPELL_TEST_NO_SUCH_KEY" in result.output
    assert "base_url: https://api.openai.com/v1" in result.output
    assert "context tokens: 128000" in result.output


def test_providers_json(config_file: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(config_file), "--output", "json", "providers", "--detailed"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["providers"]
    assert [r["name"] for r in rows] == ["scripted/test/script-1", "native/oai/gpt-4o-mini"]
    assert rows[1]["key_env"] == ["LLMSPELL_TEST_NO_SUCH_KEY"]


def test_providers_with_nothing_available_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(registry_module, "local_available", lambda: False)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = CliRunner().invoke(cli, ["--config", str(empty), "providers"])
    assert result.exit_code == 0
    assert "no LLM provider is available" in result.output


def test_mock_server_command_serves_a_script(tmp_path: Path) -> None:
    script = tmp_path / "script.toml"
    script.write_text('replies = ["scripted over the wire", { error = "rate_limited" }]\n')
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "llmspell.cli.main", "mock-server", "--port", "0",
         "--script", str(script), "--api-key", "sekrit"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer sekrit"}
        body = {"model": "any", "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            answer = client.post("/chat/completions", json=body).json()
            assert answer["choices"][0]["message"]["content"] == "scripted over the wire"
            limited = client.post("/chat/completions", json=body)
            assert limited.status_code == 429
            assert client.get("/models").json()["data"][0]["id"] == "scripted"
            assert (
                client.post(
                    "/chat/completions", json=body, headers={"Authorization": "x"}
                ).status_code
                == 401
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
