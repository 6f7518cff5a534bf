"""The hostile-script corpus, in both isolation modes.

Each ``corpus/*.lua`` starts with header comments: ``-- expect:`` the outcome class (``ok`` or an
``error_kind``), ``-- promise:`` the promise of docs/security.md it tests, and optionally
``-- value:`` the JSON of the value it returns and ``-- after:`` Lua code that a next run on the
same host must find true (nothing carried over). While each script runs, another task of the
host's event loop keeps ticking: in process mode it must never wait long; in-process, a script
may hold the loop only until its CPU limit stops it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from security_kit import CORPUS, LIMITS, run_watched

from llmspell import Host

PROMISES = set(range(1, 14))
ERROR_KINDS = {"syntax", "runtime", "timeout", "memory", "output_limit", "sandbox_violation"}


def headers(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("-- ") or ":" not in line:
            break
        key, _, value = line[3:].partition(":")
        found[key.strip()] = value.strip()
    return found


SCRIPTS = sorted(CORPUS.glob("*.lua"))


def test_corpus_is_complete() -> None:
    assert len(SCRIPTS) >= 60
    covered = set()
    for path in SCRIPTS:
        found = headers(path)
        assert found["expect"] in ERROR_KINDS | {"ok"}, path.name
        covered.update(int(p) for p in found["promise"].split(","))
    assert covered >= PROMISES


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_corpus_script(mode_host: Host, path: Path) -> None:
    expected = headers(path)
    result, gap = run_watched(mode_host, path)
    outcome = result.error_kind or "ok"
    assert outcome == expected["expect"], (result.error, result.value)
    if "value" in expected:
        assert result.value == json.loads(expected["value"])
    if result.error is not None:
        assert len(result.error.encode()) < 8 * 1024 + 100
    assert len(result.output.encode()) + len(result.stderr.encode()) < LIMITS["output_bytes"] + 200
    if mode_host.isolation == "process":
        assert gap < 0.5, f"the host's loop waited {gap:.2f} s"
    else:
        assert gap < LIMITS["cpu_seconds"] + 1.5, f"the host's loop waited {gap:.2f} s"
    if "after" in expected:
        probe: Any = mode_host.run(expected["after"])
        assert probe.value is True, probe.error
