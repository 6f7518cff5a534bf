"""The native OpenAI-compatible backend over real HTTP: streaming timing, error mapping."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time

import pytest

from llmspell.core.errors import (
    AuthenticationError,
    ModelNotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
    ValidationError,
)
from llmspell.core.types import ChatMessage, ChatRequest, StreamFinish, TextDelta
from llmspell.providers.mock_server import MockServer
from llmspell.providers.openai_compat import OpenAICompatProvider
from llmspell.providers.scripted import ErrorKind, ScriptedProvider


def hello(model: str = "gpt-4o-mini") -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage.user("hello")])


def client(server: MockServer, **kwargs: object) -> OpenAICompatProvider:
    options: dict[str, object] = {"max_retries": 0, "timeout": 5.0}
    options.update(kwargs)
    return OpenAICompatProvider(server.base_url, api_key="k", **options)  # type: ignore[arg-type]


async def test_first_chunk_arrives_before_the_server_sends_the_last(
    mock_server: MockServer,
) -> None:
    mock_server.script.push({"chunks": ["a", "b", "c", "d"], "chunk_delay": 0.15})
    provider = client(mock_server)
    start = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    async for event in provider.stream(hello()):
        if isinstance(event, TextDelta):
            arrivals.append((time.monotonic() - start, event.text))
    await provider.aclose()
    assert [text for _, text in arrivals] == ["a", "b", "c", "d"]
    # the server spends 3 * 0.15 s between its first and its last chunk: had the client
    # buffered the stream, every chunk would arrive at the same moment
    assert arrivals[-1][0] - arrivals[0][0] >= 0.4
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(arrivals)]
    assert all(gap >= 0.1 for gap in gaps)


async def test_usage_comes_from_the_final_chunk_and_priced(mock_server: MockServer) -> None:
    mock_server.script.push(
        {"text": "priced", "usage": {"input_tokens": 1000, "output_tokens": 500}}
    )
    provider = client(mock_server)
    events = [e async for e in provider.stream(hello())]
    await provider.aclose()
    finish = events[-1]
    assert isinstance(finish, StreamFinish)
    assert finish.usage is not None
    assert (finish.usage.input_tokens, finish.usage.output_tokens) == (1000, 500)
    assert finish.usage.total_tokens == 1500
    # gpt-4o-mini from litellm's bundled price table: 0.15 $/M in, 0.60 $/M out
    assert finish.cost_usd == pytest.approx(1000 * 0.15e-6 + 500 * 0.6e-6)
    seen = mock_server.requests[-1]
    assert seen.stream is True
    assert seen.extra.get("stream_options") == {"include_usage": True}


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("auth", AuthenticationError),
        ("forbidden", AuthenticationError),
        ("model_not_found", ModelNotFound),
        ("timeout", ProviderTimeout),
        ("rate_limited", RateLimited),
        ("server_error", ProviderUnavailable),
        ("unavailable", ProviderUnavailable),
        ("bad_request", ProviderError),
    ],
)
async def test_error_status_mapping(
    mock_server: MockServer, kind: ErrorKind, error: type[ProviderError]
) -> None:
    mock_server.script.fail(kind, times=2, message="scripted failure")
    provider = client(mock_server)
    with pytest.raises(error, match="scripted failure") as caught:
        await provider.complete(hello())
    assert type(caught.value) is error
    with pytest.raises(error):
        [e async for e in provider.stream(hello())]
    await provider.aclose()


async def test_retry_after_header_is_read(mock_server: MockServer) -> None:
    mock_server.script.fail("rate_limited", retry_after=7)
    provider = client(mock_server)
    with pytest.raises(RateLimited) as caught:
        await provider.complete(hello())
    assert caught.value.retry_after == 7.0
    await provider.aclose()


async def test_wrong_api_key_is_an_authentication_error() -> None:
    with MockServer(ScriptedProvider(echo=True), api_key="right") as server:
        provider = OpenAICompatProvider(server.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            await provider.complete(hello())
        good = OpenAICompatProvider(server.base_url, api_key="right", max_retries=0)
        assert (await good.complete(hello())).text == "hello"
        await provider.aclose()
        await good.aclose()


async def test_unknown_model_is_model_not_found() -> None:
    with MockServer(ScriptedProvider(echo=True), models=["known"]) as server:
        provider = OpenAICompatProvider(server.base_url, max_retries=0)
        with pytest.raises(ModelNotFound, match="'nope'"):
            await provider.complete(hello("nope"))
        assert await provider.list_models() == ["known"]
        await provider.aclose()


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = OpenAICompatProvider(f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        await provider.complete(hello())
    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        [e async for e in provider.stream(hello())]


async def test_read_timeout_is_provider_timeout(mock_server: MockServer) -> None:
    mock_server.script.push({"text": "late", "delay": 1.0})
    provider = client(mock_server, timeout=0.2)
    start = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await provider.complete(hello())
    assert time.monotonic() - start < 0.9
    await provider.aclose()


async def test_stream_cut_off_midway_is_interrupted(mock_server: MockServer) -> None:
    mock_server.script.push({"chunks": ["one ", "two ", "three"], "interrupt_after": 2})
    provider = client(mock_server)
    received: list[str] = []
    with pytest.raises(StreamInterrupted, match="cut off"):
        async for event in provider.stream(hello()):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert received == ["one ", "two "]
    await provider.aclose()


async def test_stream_without_done_or_finish_is_interrupted() -> None:
    """A server that closes the stream cleanly but before the answer's end."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Truncating(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = '{"choices":[{"index":0,"delta":{"content":"partial"}}]}'
            self.wfile.write(f"data: {chunk}\n\n".encode())

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Truncating)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = OpenAICompatProvider(
            f"http://127.0.0.1:{server.server_address[1]}/v1", max_retries=0
        )
        with pytest.raises(StreamInterrupted, match="ended before the answer was complete"):
            [e async for e in provider.stream(hello())]
        await provider.aclose()
    finally:
        server.shutdown()
        server.server_close()


async def test_retries_then_succeeds_over_http(mock_server: MockServer) -> None:
    mock_server.script.fail("rate_limited", times=2, retry_after=0.05)
    mock_server.script.push("finally")
    provider = client(mock_server, max_retries=3)
    start = time.monotonic()
    response = await provider.complete(hello())
    assert response.text == "finally"
    assert len(mock_server.requests) == 3
    assert time.monotonic() - start >= 0.1
    await provider.aclose()


async def test_model_is_required_somewhere(mock_server: MockServer) -> None:
    provider = client(mock_server)
    with pytest.raises(ValidationError, match="no model given"):
        await provider.complete(hello(""))
    defaulted = OpenAICompatProvider(mock_server.base_url, default_model="m1", max_retries=0)
    await defaulted.complete(hello(""))
    assert mock_server.requests[-1].model == "m1"
    await defaulted.aclose()


async def test_client_follows_the_running_loop(mock_server: MockServer) -> None:
    """One provider object used from two event loops (e.g. two host.run calls)."""
    provider = client(mock_server)
    assert (await provider.complete(hello())).text == "hello"

    def other_loop() -> str:
        return asyncio.run(provider.complete(hello())).text

    assert await asyncio.to_thread(other_loop) == "hello"
    await provider.aclose()


def test_base_url_is_checked() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        OpenAICompatProvider("localhost:8080")
