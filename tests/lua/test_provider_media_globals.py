"""The ``Provider`` and ``Media`` globals."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from lua_agent_kit import PNG, ok, scripted_config

from llmspell import Host

PROVIDERS = {
    "storage": {"backend": "memory"},
    "default_provider": "test",
    "providers": {
        "test": {"provider_type": "scripted", "default_model": "script-1"},
        "oai": {"provider_type": "openai"},
        "box": {
            "provider_type": "openai_compat",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "m1",
            "options": {"vision": True, "max_context_tokens": 2048},
        },
    },
}


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmspell.providers import registry

    monkeypatch.setattr(registry.ProviderRegistry, "_env_key", lambda self, names: None)
    monkeypatch.setattr(registry, "local_available", lambda: False)


def run_value(source: str, config: dict[str, Any], **options: Any) -> Any:
    return ok(Host(config).run(source, **options))


# --- Provider ---------------------------------------------------------------------------------


def test_provider_list_entries_have_three_part_names(no_keys: None) -> None:
    rows = run_value("return Provider.list()", PROVIDERS)
    by_provider = {row["provider"]: row for row in rows}
    assert set(by_provider) == {"test", "oai", "box"}
    for row in rows:
        backend, provider, model = row["name"].split("/")
        assert (backend, provider, model) == (row["backend"], row["provider"], row["model"] or "")
        # max_context_tokens is nil (absent) when unknown
        assert {"supports_streaming", "supports_multimodal", "available_models"} <= set(
            row["capabilities"]
        )
    assert by_provider["test"]["name"] == "scripted/test/script-1"
    assert by_provider["oai"]["name"] == "native/oai/gpt-4o-mini"
    assert by_provider["oai"]["enabled"] is False
    box = by_provider["box"]["capabilities"]
    assert box["supports_multimodal"] is True and box["max_context_tokens"] == 2048


def test_provider_get_capabilities_and_availability(no_keys: None) -> None:
    value = run_value(
        """
        return {
          by_name = Provider.get("box"), full = Provider.get("native/box/m2"),
          two = Provider.get("box/m3"), unknown = Provider.get("nothing") == nil,
          caps = Provider.getCapabilities("test"), snake = Provider.get_capabilities("box"),
          missing_caps = Provider.getCapabilities("nothing") == nil,
          available = Provider.isAvailable("test"), keyless = Provider.is_available("oai"),
          unknown_available = Provider.isAvailable("nothing"),
          bad = select(2, pcall(Provider.get, 42)),
        }
        """,
        PROVIDERS,
    )
    assert value["by_name"]["name"] == "native/box/m1" and value["by_name"]["model"] == "m1"
    assert value["full"]["name"] == "native/box/m2" and value["full"]["model"] == "m2"
    assert value["two"]["model"] == "m3"
    assert value["unknown"] is True and value["missing_caps"] is True
    assert value["caps"]["supports_streaming"] is True
    assert value["snake"]["max_context_tokens"] == 2048
    assert value["available"] is True and value["keyless"] is False
    assert value["unknown_available"] is False
    assert value["bad"] == "ValidationError: Provider.get: expected a provider name, got 42"


# --- Media ------------------------------------------------------------------------------------


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    (tmp_path / "pic.png").write_bytes(PNG.read_bytes())
    (tmp_path / "sound.wav").write_bytes(b"RIFF....WAVEfmt ")
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01\x02")
    return tmp_path


def media_config(root: Path) -> dict[str, Any]:
    config = scripted_config()
    config["security"] = {"file_read_roots": [str(root)]}
    return config


def test_media_values_from_files_bytes_base64_and_urls(media_dir: Path) -> None:
    value = run_value(
        f"""
        local dir = "{media_dir}"
        return {{
          image = Media.image{{path = dir .. "/pic.png"}},
          image_b64 = Media.image{{base64 = "{base64.b64encode(PNG.read_bytes()).decode()}",
                                   format = "png", metadata = {{width = 8, height = 8}}}},
          image_data = Media.image{{data = "\\137PNG\\0\\1", format = "jpg"}},
          image_url = Media.image{{url = "https://example.org/cat.webp"}},
          audio = Media.audio{{path = dir .. "/sound.wav", metadata = {{sample_rate = 16000}}}},
          video = Media.video{{path = dir .. "/clip.mp4"}},
          binary = Media.binary{{data = "abc", mime_type = "text/plain", filename = "a.txt"}},
          file_png = Media.from_file(dir .. "/pic.png"),
          file_wav = Media.fromFile(dir .. "/sound.wav"),
          file_bin = Media.from_file(dir .. "/notes.bin"),
        }}
        """,
        media_config(media_dir),
    )
    assert value["image"] == {"type": "image", "format": "png", "path": str(media_dir / "pic.png")}
    assert value["image_b64"]["base64"] == base64.b64encode(PNG.read_bytes()).decode()
    assert value["image_b64"]["metadata"] == {"width": 8, "height": 8}
    assert base64.b64decode(value["image_data"]["base64"]) == b"\x89PNG\x00\x01"
    assert value["image_data"]["format"] == "jpeg"
    assert value["image_url"] == {
        "type": "image",
        "format": "webp",
        "url": "https://example.org/cat.webp",
    }
    assert value["audio"]["format"] == "wav" and value["audio"]["metadata"]["sample_rate"] == 16000
    assert value["video"]["type"] == "video" and value["video"]["format"] == "mp4"
    assert value["binary"]["mime_type"] == "text/plain" and value["binary"]["filename"] == "a.txt"
    assert base64.b64decode(value["binary"]["base64"]) == b"abc"
    assert value["file_png"]["type"] == "image" and value["file_png"]["format"] == "png"
    assert value["file_wav"]["type"] == "audio"
    assert value["file_bin"]["type"] == "binary"
    assert value["file_bin"]["filename"] == "notes.bin"


def test_media_errors_name_what_is_wrong(media_dir: Path) -> None:
    value = run_value(
        f"""
        local dir = "{media_dir}"
        local function err(fn, arg) return select(2, pcall(fn, arg)) end
        return {{
          no_source = err(Media.image, {{format = "png"}}),
          two_sources = err(Media.image, {{url = "https://x/y.png", base64 = "AAAA"}}),
          bad_format = err(Media.image, {{base64 = "AAAA", format = "bmp"}}),
          bad_base64 = err(Media.audio, {{base64 = "!!", format = "wav"}}),
          unknown = err(Media.video, {{path = dir .. "/clip.mp4", colour = 1}}),
          missing = err(Media.image, {{path = dir .. "/nothing.png"}}),
          outside = err(Media.image, {{path = "/etc/hostname", format = "png"}}),
          not_a_table = err(Media.binary, 42),
        }}
        """,
        media_config(media_dir),
    )
    assert value["no_source"].startswith(
        "ValidationError: Media.image: media.image: image media needs"
    )
    assert (
        "exactly one of 'data', 'base64', 'path' or 'url' (got data, url)" in value["two_sources"]
    )
    assert value["bad_format"].startswith("ValidationError: Media.image: media.image.format")
    assert "not valid base64" in value["bad_base64"]
    assert "unknown field 'colour'" in value["unknown"]
    assert value["missing"].endswith("is not a file")
    assert value["outside"].startswith("PermissionDenied: read '/etc/hostname' is outside")
    assert value["not_a_table"].startswith("ValidationError: Media.binary: expected a table")


def test_media_size_limits(media_dir: Path) -> None:
    huge = media_dir / "huge.png"
    with huge.open("wb") as f:
        f.truncate(101 * 1024 * 1024)
    value = run_value(
        f"""
        return {{select(2, pcall(Media.image, {{path = "{huge}"}})),
                select(2, pcall(Media.from_file, "{huge}"))}}
        """,
        media_config(media_dir),
    )
    for message in value:
        assert "image is 101 MB, over the image size limit of 100 MB" in message


def test_media_values_are_accepted_by_agents(media_dir: Path) -> None:
    value = run_value(
        f"""
        local a = Agent.create{{name = "eyes"}}
        return a:execute{{text = "look", media = {{Media.image{{path = "{media_dir}/pic.png"}}}}}}
        """,
        media_config(media_dir),
    )
    assert value["text"] == "look"
