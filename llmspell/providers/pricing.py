"""Token prices and context windows per model.

The table is litellm's bundled ``model_prices_and_context_window_backup.json``, read as a data
file from the installed litellm package. litellm itself is never imported for this: its import
costs seconds and, without ``LITELLM_LOCAL_MODEL_COST_MAP``, a network request. The file is
parsed once, on the first lookup (about 150 ms), and kept in memory.
"""

from __future__ import annotations

import functools
import importlib.util
import json
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


@functools.cache
def price_table() -> dict[str, dict[str, Any]]:
    """The whole table (model key -> fields); empty when litellm is not installed."""
    path = price_file()
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and k != "sample_spec"}


@functools.cache
def litellm_providers() -> frozenset[str]:
    """Every provider name the price table mentions (what litellm can route to)."""
    names = {str(v.get("litellm_provider", "")) for v in price_table().values()}
    return frozenset(n for n in names if n and " " not in n)


def model_info(model: str, provider: str | None = None) -> ModelInfo | None:
    """Look ``model`` up as ``provider/model``, then bare; ``None`` when unknown."""
    table = price_table()
    candidates = [f"{provider}/{model}", model] if provider else [model]
    for key in candidates:
        entry = table.get(key)
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
