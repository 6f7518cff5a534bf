"""A script that uses no LLM must not pay for heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "litellm",
    "openai",
    "httpx",
    "pydantic",
    "asyncio",
    "jinja2",
    "yaml",
    "tenacity",
    "psutil",
    "tqdm",
]


def test_hello_script_imports_nothing_heavy(tmp_path):
    script = tmp_path / "hello.lua"
    script.write_text('print("hello") return JSON.stringify({a = 1})')
    code = (
        "import sys, json\n"
        "from llmspell.cli.main import main\n"
        "try:\n"
        f"    main(['run', {str(script)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout == "hello\n"
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    assert loaded == []
