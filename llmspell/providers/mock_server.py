"""A local OpenAI-compatible HTTP server backed by a provider (the scripted one by default).

It serves ``POST /v1/chat/completions`` (JSON, or SSE when ``stream`` is true, with a final
usage chunk), ``GET /v1/models`` and ``GET /health`` on 127.0.0.1, so tests, examples and
benchmarks drive the real HTTP and SSE path. Failures the provider raises become HTTP errors
(429 with ``Retry-After``, 503, 401...); a stream the provider cuts off is cut off on the wire
(the connection closes without the end of the chunked body).

Built on the standard library's ``ThreadingHTTPServer`` in a background thread: one thread
and one event loop per connection, HTTP/1.1 keep-alive, TCP_NODELAY so each chunk leaves at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llmspell.core.errors import (
    AuthenticationError,
    LlmspellError,
    ModelNotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
    ValidationError,
)
from llmspell.core.types import ChatRequest, StreamEvent
from llmspell.providers import openai_wire as wire
from llmspell.providers.base import Provider
from llmspell.providers.scripted import ScriptedProvider
from llmspell_utils.ids import new_id

_STATUS_BY_ERROR: tuple[tuple[type[ProviderError], int], ...] = (
    (AuthenticationError, 401),
    (ModelNotFound, 404),
    (RateLimited, 429),
    (ProviderTimeout, 408),
    (ProviderUnavailable, 503),
)


def status_for_error(exc: ProviderError) -> int:
    """The HTTP status a server would have sent for ``exc``."""
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500 if exc.retryable else 400


class MockServer:
    """``with MockServer(ScriptedProvider(["hi"])) as server: ... server.base_url ...``

    ``api_key``: when set, requests must carry it as a bearer token (else 401).
    ``models``: when set, other model names get 404; also what ``/v1/models`` lists.
    """

    def __init__(
        self,
        provider: Provider | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: list[str] | None = None,
    ) -> None:
        self.provider: Provider = provider if provider is not None else ScriptedProvider(echo=True)
        self.api_key = api_key
        self.models = models
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MockServer:
        if self._server is not None:
            return self
        server = _Server(self._address, _Handler)
        server.mock = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="llmspell-mock-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the mock server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as its base URL (``.../v1``)."""
        return f"{self.url}/v1"

    @property
    def script(self) -> ScriptedProvider:
        """The scripted provider behind the server (to queue answers)."""
        if not isinstance(self.provider, ScriptedProvider):
            raise TypeError("this mock server is not backed by a ScriptedProvider")
        return self.provider

    @property
    def requests(self) -> list[ChatRequest]:
        """Requests the scripted provider received (empty for other providers)."""
        provider = self.provider
        return provider.requests if isinstance(provider, ScriptedProvider) else []

    def model_ids(self) -> list[str]:
        return list(self.models or self.provider.capabilities.models)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    """The listen backlog: the default of 5 resets connections when a script opens dozens at
    once (``parallel`` of 50 agent calls)."""
    mock: MockServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up; report anything else as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.loop = asyncio.new_event_loop()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.loop.close()

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # --- helpers --------------------------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error_json(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(status, {"error": {"message": message, "type": kind}}, headers)

    def _send_provider_error(self, exc: ProviderError) -> None:
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = f"{exc.retry_after:g}"
        self._send_error_json(status_for_error(exc), str(exc), exc.kind, headers)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n")

    def _cut_off(self) -> None:
        """End the connection without finishing the body, as a crashed server would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "llmspell"}
                for m in self.server.mock.model_ids()
            ]
            self._send_json(200, {"object": "list", "data": data})
        elif path == "/health":
            self._send_json(200, {"status": "ok"})
        else:
            self._send_error_json(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error_json(404, f"no route {self.path}", "not_found")
            return
        mock = self.server.mock
        if mock.api_key is not None and self.headers.get("Authorization") != (
            f"Bearer {mock.api_key}"
        ):
            self._send_error_json(401, "invalid api key", "invalid_request_error")
            return
        try:
            request = wire.request_from_body(json.loads(raw or b"null"))
        except ValueError:
            self._send_error_json(400, "request body is not valid JSON", "invalid_request_error")
            return
        except ValidationError as exc:
            self._send_error_json(400, str(exc), "invalid_request_error")
            return
        if mock.models is not None and request.model not in mock.models:
            self._send_error_json(404, f"model '{request.model}' not found", "not_found")
            return
        if request.stream:
            self._stream(request)
        else:
            self._complete(request)

    def _complete(self, request: ChatRequest) -> None:
        provider = self.server.mock.provider
        try:
            response = self.loop.run_until_complete(provider.complete(request))
        except StreamInterrupted:
            self._cut_off()
            return
        except ProviderError as exc:
            self._send_provider_error(exc)
            return
        except LlmspellError as exc:
            self._send_error_json(400, str(exc), exc.kind)
            return
        body = wire.response_to_body(response, request.model, new_id("chatcmpl"))
        self._send_json(200, body)

    def _stream(self, request: ChatRequest) -> None:
        events: AsyncIterator[StreamEvent] = self.server.mock.provider.stream(request)
        response_id = new_id("chatcmpl")
        headers_sent = False
        try:
            while True:
                try:
                    event = self.loop.run_until_complete(anext(events))
                except StopAsyncIteration:
                    break
                if not headers_sent:
                    self._start_stream()
                    headers_sent = True
                payload = b"".join(
                    b"data: " + json.dumps(chunk).encode("utf-8") + b"\n\n"
                    for chunk in wire.event_to_chunks(event, request.model, response_id)
                )
                self._write_chunk(payload)
        except StreamInterrupted:
            if not headers_sent:
                self._start_stream()
            self._cut_off()
            return
        except ProviderError as exc:
            if headers_sent:
                self._cut_off()
            else:
                self._send_provider_error(exc)
            return
        except LlmspellError as exc:
            if headers_sent:
                self._cut_off()
            else:
                self._send_error_json(400, str(exc), exc.kind)
            return
        finally:
            self.loop.run_until_complete(_aclose(events))
        if not headers_sent:
            self._start_stream()
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()


async def _aclose(events: AsyncIterator[StreamEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
