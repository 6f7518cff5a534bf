"""HTTP statuses and ``ProviderError`` classes, both ways, and ``Retry-After`` parsing."""

from __future__ import annotations

import email.utils
import time

from llmspell.core.errors import (
    AuthenticationError,
    ModelNotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)


def error_for_status(
    status: int,
    detail: str | None,
    *,
    provider: str,
    model: str,
    retry_after: float | None = None,
) -> ProviderError:
    """The error for an HTTP error status: 401/403 authentication, 404 model, 408 timeout,
    429 rate limit, 5xx unavailable; anything else is a plain (not retryable) ``ProviderError``."""
    said = f": {detail}" if detail else ""
    where = f"provider '{provider}'"
    if status in (401, 403):
        return AuthenticationError(f"{where} rejected the credentials (HTTP {status}){said}")
    if status == 404:
        return ModelNotFound(f"{where} has no model '{model}' (HTTP 404){said}")
    if status == 408:
        return ProviderTimeout(
            f"{where} timed out the request (HTTP 408){said}", retry_after=retry_after
        )
    if status == 429:
        return RateLimited(f"{where} is rate limiting (HTTP 429){said}", retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailable(
            f"{where} failed with HTTP {status}{said}", retry_after=retry_after
        )
    return ProviderError(f"{where} refused the request (HTTP {status}){said}")


ERROR_STATUS: dict[str, int] = {
    "auth": 401,
    "forbidden": 403,
    "model_not_found": 404,
    "timeout": 408,
    "rate_limited": 429,
    "bad_request": 400,
    "server_error": 500,
    "unavailable": 503,
}
"""HTTP status per injectable error kind (scripted provider and mock server)."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
