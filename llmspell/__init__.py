"""llmspell: script LLM agents, tools and workflows in sandboxed Lua.

``Host`` is the embedding API. Attributes load lazily so that ``import llmspell`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Host", "RunResult", "__version__"]

if TYPE_CHECKING:
    from llmspell.core.result import RunResult
    from llmspell.host import Host


def __getattr__(name: str) -> Any:
    if name == "Host":
        from llmspell.host import Host

        return Host
    if name == "RunResult":
        from llmspell.core.result import RunResult

        return RunResult
    raise AttributeError(f"module 'llmspell' has no attribute {name!r}")
