"""The hostile-script corpus, in both isolation modes.

Each ``corpus/*.lua`` starts with header comments: ``-- expect:`` the outcome class (``ok`` or an
``error_kind``), ``-- promise:`` the promise of docs/security.md it tests, and optionally
``-- value:`` the JSON of the value it returns, ``-- value-match:`` a regular expression its
(string) value matches, ``-- absent:`` text that must not appear in its output, and
``-- after:`` Lua code that a next run on the same host must find true (nothing carried over).
A script whose only header is ``-- expect: ok`` could pass whatever it did: each says more.
While each script runs, another task of the host's event loop keeps ticking: in process mode it
must never wait long; in-process, a script may hold the loop only until its CPU limit stops it.
``LLMSPELL_CORPUS_SECRET`` is set in the host's environment meanwhile (no script may read it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from security_kit import CORPUS, LIMITS, run_watched

from llmspell import Host

PROMISES = set(range(1, 14))
ERROR_KINDS = {"syntax", "runtime", "timeout", "memory", "output_limit", "sandbox_violation"}
HEADERS = {"expect", "promise", "value", "value-match", "absent", "after"}
CHECKS = {"value", "value-match", "absent", "after"}
SECRET = "LLMSPELL_CORPUS_SECRET"


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
    covered: set[int] = set()
    for path in SCRIPTS:
        found = headers(path)
        assert set(found) <= HEADERS, (path.name, set(found) - HEADERS)
        assert found["expect"] in ERROR_KINDS | {"ok"}, path.name
        assert found["expect"] != "ok" or set(found) & CHECKS, f"{path.name}: nothing to check"
        if "value" in found:
            json.loads(found["value"])
        if "value-match" in found:
            re.compile(found["value-match"])
        # A header line below the first line of code would be ignored: none may be there.
        body = path.read_text(errors="replace").splitlines()[len(found) :]
        assert not [line for line in body if re.match(r"-- [a-z-]+:", line)], path.name
        covered.update(int(p) for p in found["promise"].split(","))
    assert covered >= PROMISES


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_corpus_script(mode_host: Host, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET, "corpus-secret")
    expected = headers(path)
    result, gap = run_watched(mode_host, path)
    outcome = result.error_kind or "ok"
    assert outcome == expected["expect"], (result.error, result.value)
    if "value" in expected:
        assert result.value == json.loads(expected["value"])
    if "value-match" in expected:
        assert isinstance(result.value, str) and re.search(expected["value-match"], result.value)
    if "absent" in expected:
        assert expected["absent"] not in result.output + result.stderr
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
