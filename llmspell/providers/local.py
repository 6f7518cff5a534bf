"""The local backend: a small model served by llama.cpp inside this process, no key, no network.

``xllamacpp`` runs llama.cpp's own OpenAI-compatible HTTP server in background threads of the
current process. One server per process is shared by every ``LocalProvider``: it starts lazily
on first use (fetching the weights first if needed), and stops when the last provider using it
is closed, or at interpreter exit. Requests go through the native OpenAI-compatible backend
pointed at the server's loopback address, so the local model gets the same streaming, error
mapping and timeouts as any remote one.

Settings, measured on a 2-core machine with SmolLM2-135M (Q4_1):
- ``CONTEXT_TOKENS = 4096``: half the model's trained 8192. The KV cache costs about 45 MB per
  4096 tokens (RSS after load: 195 MB at 2048, 240 MB at 4096, 330 MB at 8192), and prompts are
  read at about 60 tokens/s on one thread, so a full 4096-token prompt already takes ~70 s.
- One request slot (``n_parallel = 1``): concurrent requests queue and each may use the whole
  context. Four batched slots gave 1.5x the throughput on short prompts, but they either split
  the context four ways or share one pool, and with a shared pool four 2,700-token prompts all
  failed with "Context size has been exceeded" after a minute.
- One thread by default: two are faster on an idle machine but collapse to 1-10 tokens/s when
  another process uses a core; one stays at 40-50 tokens/s.
- Load: 0.6-0.8 s from start until ``/health`` answers; ``server_info().load_seconds`` records
  it for the running server.

This module is on provider resolution's path (``is_available``), so it imports only the standard
library at the top; xllamacpp, pydantic types and httpx are imported on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ModelNotFound, ProviderUnavailable, ValidationError
from llmspell.providers import model_store
from llmspell.providers.model_store import ensure_model

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities, ChatRequest, ChatResponse, StreamEvent
    from llmspell.providers.openai_compat import OpenAICompatProvider

__all__ = [
    "CONTEXT_TOKENS",
    "DEFAULT_MODEL",
    "DEFAULT_THREADS",
    "LocalProvider",
    "ServerInfo",
    "ensure_model",
    "is_available",
    "server_info",
    "stop_server",
]

PROVIDER_NAME = "local"
DEFAULT_MODEL = "smollm2"
DEFAULT_THREADS = 1
CONTEXT_TOKENS = 4096
REQUEST_TIMEOUT = 300.0
"""Seconds per call: long prompts are slow on one thread (see the module docstring)."""
READY_TIMEOUT = 30.0
LOG_VERBOSITY = -1
"""llama.cpp log threshold: below every level, so the server writes nothing to stderr."""

_log = logging.getLogger(__name__)


def is_available(model: str = DEFAULT_MODEL) -> bool:
    """Whether the local backend can serve ``model`` without configuration: the runtime is
    installed (checked without importing it) and the weights are present or obtainable."""
    return importlib.util.find_spec("xllamacpp") is not None and model_store.can_fetch(model)


@dataclass(frozen=True)
class ServerInfo:
    """The running server: where it listens and how it was started."""

    base_url: str
    model: str
    model_path: str
    threads: int
    context_tokens: int
    load_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _SharedServer:
    """The process's one llama.cpp server and the count of providers using it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self._info: ServerInfo | None = None
        self._users = 0
        self._exit_hook_registered = False

    @property
    def info(self) -> ServerInfo | None:
        return self._info

    def acquire(self, model: str, threads: int) -> ServerInfo:
        """Start the server if it is not running (blocking: may fetch weights, then ~1 s to
        load) and count one more user. Call it from a worker thread in async code."""
        with self._lock:
            if self._info is None:
                self._server, self._info = _start_server(model, threads)
                if not self._exit_hook_registered:
                    atexit.register(self.stop)
                    self._exit_hook_registered = True
            elif (self._info.model, self._info.threads) != (model, threads):
                raise ValidationError(
                    f"the local model server already runs model '{self._info.model}' with "
                    f"threads={self._info.threads}; every local provider in a process shares it, "
                    f"so model '{model}' with threads={threads} cannot be served"
                )
            self._users += 1
            return self._info

    def release(self, info: ServerInfo) -> None:
        """One user fewer; the last one stops the server. ``info`` is the server the user
        acquired: a release for a server already stopped does nothing."""
        with self._lock:
            if info is not self._info:
                return
            self._users -= 1
            if self._users == 0:
                self._stop_locked()

    def stop(self) -> None:
        """Stop the server now, whoever uses it (their next call starts a new one)."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        # xllamacpp stops the HTTP server and frees the model when the object is released.
        self._server = None
        self._info = None
        self._users = 0


_SHARED = _SharedServer()


def server_info() -> ServerInfo | None:
    """The running local model server, or ``None`` when none runs."""
    return _SHARED.info


def stop_server() -> None:
    """Stop the local model server if it runs (also done at interpreter exit)."""
    _SHARED.stop()


def _start_server(model: str, threads: int) -> tuple[Any, ServerInfo]:
    path = ensure_model(model)
    try:
        import xllamacpp
    except ImportError:
        raise ProviderUnavailable(
            "the local model runtime is not installed: pip install 'llmspell[local]'"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {model}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port at bind time: no window for another process
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = LOG_VERBOSITY
    started = time.perf_counter()
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise ProviderUnavailable(
            f"the local model server could not start with model file '{path}': {exc}"
        ) from None
    base_url = _base_url(server.listening_address)
    _wait_until_ready(base_url, READY_TIMEOUT)
    info = ServerInfo(
        base_url=base_url,
        model=model,
        model_path=str(path),
        threads=threads,
        context_tokens=CONTEXT_TOKENS,
        load_seconds=round(time.perf_counter() - started, 3),
    )
    _log.info("local model '%s' ready at %s in %.2f s", model, base_url, info.load_seconds)
    return server, info


def _base_url(address: Any) -> str:
    parsed = urllib.parse.urlsplit(str(address))
    if parsed.scheme != "http" or not parsed.port:
        raise ProviderUnavailable(
            f"the local model server reports an unusable listening address {address!r}"
        )
    return f"http://{parsed.hostname}:{parsed.port}"


def _wait_until_ready(base_url: str, timeout: float) -> None:
    """Poll ``/health`` until it answers 200 (503 while the model loads)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{base_url}/health", timeout=1.0) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.02)
    raise ProviderUnavailable(
        f"the local model server at {base_url} was not ready after {timeout:g} s ({last})"
    )


class LocalProvider:
    """The ``Provider`` for the local model: starts (or shares) the process's server on first
    use and delegates to the native OpenAI-compatible backend pointed at it.

    ``threads`` is the CPU threads llama.cpp uses; all local providers of a process share one
    server, so they must agree on it.
    """

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = DEFAULT_THREADS) -> None:
        model_store.get_model(model)
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValidationError(f"threads must be a positive integer, got {threads!r}")
        self.model = model
        self.threads = threads
        self._capabilities: Capabilities | None = None
        self._connection: tuple[ServerInfo, OpenAICompatProvider] | None = None

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    @property
    def capabilities(self) -> Capabilities:
        if self._capabilities is None:
            from llmspell.core.types import Capabilities

            self._capabilities = Capabilities(
                streaming=True,
                tools=False,
                vision=False,
                max_context_tokens=CONTEXT_TOKENS,
                models=[self.model],
            )
        return self._capabilities

    async def start(self) -> ServerInfo:
        """Start (or join) the server now rather than on the first call, e.g. to show a
        progress indicator while it loads; returns where it listens and its load time."""
        info, _ = await self._connect()
        return info

    async def complete(self, request: ChatRequest) -> ChatResponse:
        request = self._checked(request)
        _, client = await self._connect()
        return await client.complete(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        request = self._checked(request)
        _, client = await self._connect()
        events = client.stream(request)
        try:
            async for event in events:
                yield event
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()

    async def aclose(self) -> None:
        """Close the HTTP client and release the server (stopped when no provider uses it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            info, client = connection
            await client.aclose()
            await asyncio.to_thread(_SHARED.release, info)

    async def _connect(self) -> tuple[ServerInfo, OpenAICompatProvider]:
        """The running server and a backend talking to it, starting the server when needed
        (again, if it was stopped since this provider last used it)."""
        current = self._connection
        if current is not None and current[0] is _SHARED.info:
            return current
        info = await asyncio.to_thread(_SHARED.acquire, self.model, self.threads)
        current = self._connection
        if current is not None and current[0] is info:
            # Another call of this provider acquired the same server while this one waited.
            await asyncio.to_thread(_SHARED.release, info)
            return current
        from llmspell.providers.openai_compat import OpenAICompatProvider

        client = OpenAICompatProvider(
            f"{info.base_url}/v1",
            default_model=self.model,
            timeout=REQUEST_TIMEOUT,
            max_retries=0,
            name=PROVIDER_NAME,
            capabilities=self.capabilities,
            price_provider=None,
            free=True,
        )
        self._connection = (info, client)
        if current is not None:
            await current[1].aclose()
        return self._connection

    def _checked(self, request: ChatRequest) -> ChatRequest:
        """Reject, before any server starts, what the local model cannot serve."""
        if request.model and request.model != self.model:
            raise ModelNotFound(
                f"provider '{PROVIDER_NAME}' serves model '{self.model}', not '{request.model}'"
            )
        if request.has_images:
            raise ValidationError(
                f"local model '{self.model}' does not accept images; use a vision-capable model"
            )
        return request
