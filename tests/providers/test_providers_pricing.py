"""The price table: one model's entry is decoded from litellm's file without parsing it all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmspell.providers import pricing

TABLE = """{
    "sample_spec": {"litellm_provider": "one of the providers", "mode": "chat"},
    "gpt-x": {
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 2e-06,
        "litellm_provider": "openai",
        "max_input_tokens": 1000,
        "mode": {"nested": true}
    },
"badly-indented": {"input_cost_per_token": 3e-06, "output_cost_per_token": 4e-06,
        "litellm_provider": "anthropic", "supports_vision": true},
    "acme/model \\"quoted\\"": {"input_cost_per_token": 5e-06, "output_cost_per_token": 5e-06,
        "litellm_provider": "acme"}
}
"""


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / pricing.PRICE_FILE
    path.write_text(TABLE)
    monkeypatch.setattr(pricing, "price_file", lambda: path)
    pricing.model_info.cache_clear()
    pricing.litellm_providers.cache_clear()
    yield path
    pricing.model_info.cache_clear()
    pricing.litellm_providers.cache_clear()


def bundled_table() -> dict[str, Any]:
    """The whole price table, parsed at once: what each entry's lookup must agree with."""
    data = pricing._price_data()
    return {} if data is None else pricing._whole(data)


def test_each_entry_decodes_as_in_the_whole_table(table: Path) -> None:
    whole = bundled_table()
    assert set(whole) == {"gpt-x", "badly-indented", 'acme/model "quoted"'}
    for key, fields in whole.items():
        assert pricing._entry(key) == fields


def test_nested_keys_and_the_sample_are_not_models(table: Path) -> None:
    assert pricing.model_info("mode") is None
    assert pricing.model_info("nested") is None
    assert pricing.model_info("sample_spec") is None
    assert pricing.model_info("gpt") is None


def test_lookup_and_cost(table: Path) -> None:
    info = pricing.model_info("gpt-x", "openai")
    assert info is not None and info.max_input_tokens == 1000
    assert pricing.cost_usd("gpt-x", 10, 5, "openai") == pytest.approx(2e-05)
    vision = pricing.model_info("badly-indented")
    assert vision is not None and vision.supports_vision and vision.provider == "anthropic"


def test_providers_come_from_every_entry(table: Path) -> None:
    assert pricing.litellm_providers() == frozenset({"openai", "anthropic", "acme"})


def test_a_table_on_one_line_is_parsed_whole(table: Path) -> None:
    table.write_text(json.dumps(json.loads(TABLE)))
    assert pricing._entry("gpt-x") == json.loads(TABLE)["gpt-x"]


def test_the_bundled_table_agrees_entry_by_entry() -> None:
    whole = bundled_table()
    if not whole:
        pytest.skip("litellm's price table is not installed")
    sample = list(whole)[:: max(1, len(whole) // 300)]
    assert all(pricing._entry(key) == whole[key] for key in sample)
