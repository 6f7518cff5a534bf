"""Token prices and context windows per model.

The table is litellm's bundled ``model_prices_and_context_window_backup.json``, read as a data
file from the installed litellm package. litellm itself is never imported for this: its import
costs seconds and, without ``LITELLM_LOCAL_MODEL_COST_MAP``, a network request.

The file is about 3 MB of JSON; parsed whole it costs about 40 ms and 5 MiB of memory kept for
the process (measured), more than the rest of an agent script's own state. A lookup therefore
finds the model's entry in the text (top-level keys start a line, indented by at most four
spaces; nested ones are deeper) and decodes only that entry; answers are remembered.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICE_FILE = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the price table knows about one model."""

    key: str
    provider: str
    input_cost_per_token: float | None
    output_cost_per_token: float | None
    max_input_tokens: int | None
    supports_vision: bool
    supports_tools: bool

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        if self.input_cost_per_token is None or self.output_cost_per_token is None:
            return None
        return input_tokens * self.input_cost_per_token + output_tokens * self.output_cost_per_token


def price_file() -> Path | None:
    """Where litellm's bundled price table is, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PRICE_FILE
    return path if path.is_file() else None


PROVIDER_FIELD = re.compile(rb'"litellm_provider":\s*"([^"]*)"')
KEY_END = re.compile(rb"\s*:\s*")
ENTRY_WINDOW = 64 * 1024
"""Bytes decoded around an entry first (entries are a few KB; a longer one decodes the rest)."""


def _price_data() -> bytes | None:
    path = price_file()
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _whole(data: bytes) -> dict[str, dict[str, Any]]:
    try:
        table = json.loads(data)
    except ValueError:
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(v, dict) and k != "sample_spec"}


def _entry(key: str) -> dict[str, Any] | None:
    """The table's fields for ``key``, decoding that entry only."""
    data = _price_data()
    if data is None or key == "sample_spec":
        return None
    if b"\n" not in data[:256]:  # not laid out one key per line: parse it all
        return _whole(data).get(key)
    start = _value_start(data, json.dumps(key).encode())
    if start is None:
        return None
    decoder = json.JSONDecoder()
    for window in (data[start : start + ENTRY_WINDOW], data[start:]):
        try:
            value, _ = decoder.raw_decode(window.decode("utf-8", "replace"))
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _value_start(data: bytes, quoted: bytes) -> int | None:
    """Where the value of the top-level key ``quoted`` starts: the key begins a line, indented by
    at most four spaces (nested keys are deeper)."""
    at = data.find(quoted)
    while at >= 0:
        line = data.rfind(b"\n", 0, at) + 1
        if at - line <= 4 and not data[line:at].strip():
            colon = KEY_END.match(data, at + len(quoted))
            if colon is not None:
                return colon.end()
        at = data.find(quoted, at + 1)
    return None


@functools.cache
def litellm_providers() -> frozenset[str]:
    """Every provider name the price table mentions (what litellm can route to)."""
    data = _price_data()
    names = set() if data is None else {n.decode() for n in PROVIDER_FIELD.findall(data)}
    return frozenset(n for n in names if n and " " not in n)


@functools.lru_cache(maxsize=256)
def model_info(model: str, provider: str | None = None) -> ModelInfo | None:
    """Look ``model`` up as ``provider/model``, then bare; ``None`` when unknown."""
    candidates = [f"{provider}/{model}", model] if provider else [model]
    for key in candidates:
        entry = _entry(key)
        if entry is None:
            continue
        found_provider = str(entry.get("litellm_provider", ""))
        if provider and key == model and found_provider and not _same(found_provider, provider):
            continue
        return ModelInfo(
            key=key,
            provider=found_provider,
            input_cost_per_token=_number(entry.get("input_cost_per_token")),
            output_cost_per_token=_number(entry.get("output_cost_per_token")),
            max_input_tokens=_integer(entry.get("max_input_tokens")),
            supports_vision=bool(entry.get("supports_vision", False)),
            supports_tools=bool(entry.get("supports_function_calling", False)),
        )
    return None


def cost_usd(
    model: str, input_tokens: int, output_tokens: int, provider: str | None = None
) -> float | None:
    """The price of one call in US dollars, ``None`` when the model has no known price."""
    info = model_info(model, provider)
    return None if info is None else info.cost(input_tokens, output_tokens)


def _same(table_provider: str, provider: str) -> bool:
    return table_provider == provider or table_provider.startswith((f"{provider}_", f"{provider}-"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
