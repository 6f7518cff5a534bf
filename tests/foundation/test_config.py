"""Configuration: discovery, environment overrides, validation that names file and key."""

from __future__ import annotations

import pytest

from llmspell.core.config import Config, discover_config_file, load_config, redact_secrets
from llmspell.core.errors import ConfigError


def test_defaults():
    cfg = load_config(discover=False, environ={})
    assert cfg.runtime.cpu_seconds == 30.0
    assert cfg.runtime.memory_mb == 64.0
    assert cfg.storage.backend == "sqlite"


def test_toml_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[runtime]\ncpu_seconds = 5\n[providers.mine]\nprovider_type = "openai"\n')
    cfg = load_config(path, environ={})
    assert cfg.runtime.cpu_seconds == 5.0
    assert cfg.providers["mine"].provider_type == "openai"
    assert cfg.source == str(path)


def test_unknown_key_names_file_and_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[runtime]\ncpu_secs = 5\n")
    with pytest.raises(ConfigError, match=r"c\.toml: unknown key 'runtime\.cpu_secs'"):
        load_config(path, environ={})


def test_wrong_type_names_key_and_expectation(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[runtime]\nmemory_mb = "lots"\n')
    with pytest.raises(ConfigError, match=r"'runtime\.memory_mb' must be a number"):
        load_config(path, environ={})


def test_bad_choice(tmp_path):
    with pytest.raises(ConfigError, match=r"'security\.mode' must be one of"):
        load_config({"security": {"mode": "yolo"}}, environ={})


def test_invalid_toml_names_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[runtime\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path, environ={})


def test_env_overrides(tmp_path):
    cfg = load_config(
        {"runtime": {"cpu_seconds": 5}},
        environ={
            "LLMSPELL_RUNTIME__CPU_SECONDS": "7",
            "LLMSPELL_SECURITY__ENV_ALLOW": '["HOME"]',
            "LLMSPELL_PROVIDERS__X__BASE_URL": "http://127.0.0.1:1/v1",
        },
    )
    assert cfg.runtime.cpu_seconds == 7.0
    assert cfg.security.env_allow == ["HOME"]
    assert cfg.providers["x"].base_url == "http://127.0.0.1:1/v1"


def test_discovery_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMSPELL_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert discover_config_file() is None
    user = tmp_path / "xdg" / "llmspell" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert discover_config_file() == user
    (tmp_path / ".llmspell.toml").write_text("")
    assert discover_config_file().name == ".llmspell.toml"
    (tmp_path / "llmspell.toml").write_text("")
    assert discover_config_file().name == "llmspell.toml"
    env_file = tmp_path / "env.toml"
    env_file.write_text("")
    monkeypatch.setenv("LLMSPELL_CONFIG", str(env_file))
    assert discover_config_file() == env_file
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("")
    assert discover_config_file(explicit) == explicit


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        discover_config_file(tmp_path / "nope.toml")


def test_secrets_redacted():
    cfg = load_config(
        {"providers": {"p": {"api_key": "sk-secret", "api_key_env": "P_KEY"}}}, environ={}
    )
    data = cfg.to_dict()
    assert data["providers"]["p"]["api_key"] == "***"
    assert data["providers"]["p"]["api_key_env"] == "P_KEY"
    assert redact_secrets({"nested": [{"token": "t"}]}) == {"nested": [{"token": "***"}]}


def test_config_object_passes_through():
    cfg = Config()
    assert load_config(cfg) is cfg


def test_config_global_is_redacted_and_read_only():
    from llmspell import Host

    host = Host({"providers": {"p": {"api_key": "sk-secret"}}})
    result = host.run(
        'local c = Config.get() c.runtime = nil return {Config.get("providers.p.api_key"), '
        'Config.get("runtime.memory_mb"), Config.get("no.such.key") == nil}'
    )
    assert result.value == ["***", 64.0, True]


def test_host_limit_overrides_are_validated():
    from llmspell import Host
    from llmspell.core.errors import ValidationError

    with pytest.raises(ValidationError, match="unknown limit 'cpu'"):
        Host(limits={"cpu": 1})
    with pytest.raises(ValidationError, match="positive number"):
        Host(limits={"cpu_seconds": -1})
