"""system-monitor: CPU, memory, disk and system figures from psutil (numbers only: no process
list, command lines or user names)."""

from __future__ import annotations

import asyncio
import platform
import time
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult

NAME = "system-monitor"
OPERATIONS = ("all", "cpu", "memory", "disk", "system")
CPU_SAMPLE_SECONDS = 0.1


class SystemMonitorTool(Tool):
    """Resource usage of the machine."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Report CPU, memory, disk and system figures (operation all, cpu, memory, disk or system)."
    )
    category: ClassVar[str] = "system"
    security_level: ClassVar[SecurityLevel] = "restricted"
    tags: ClassVar[tuple[str, ...]] = ("system", "monitoring", "resources")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS), "default": "all"},
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "Disk to report (read roots)",
            },
        },
        "additionalProperties": False,
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation", "all")
        disk_path = str(ctx.check_read(params["path"])) if "path" in params else "/"
        sections = OPERATIONS[1:] if operation == "all" else (operation,)
        report = await asyncio.to_thread(_collect, sections, disk_path)
        result = report if operation == "all" else report[operation]
        return ToolResult(result=result, operation=operation)


def _collect(sections: tuple[str, ...], disk_path: str) -> dict[str, Any]:
    import psutil

    report: dict[str, Any] = {}
    try:
        if "cpu" in sections:
            load = psutil.getloadavg() if hasattr(psutil, "getloadavg") else None
            report["cpu"] = {
                "percent": psutil.cpu_percent(interval=CPU_SAMPLE_SECONDS),
                "count_logical": psutil.cpu_count(logical=True),
                "count_physical": psutil.cpu_count(logical=False),
                "load_average": list(load) if load else None,
            }
        if "memory" in sections:
            memory, swap = psutil.virtual_memory(), psutil.swap_memory()
            report["memory"] = {
                "total": memory.total,
                "available": memory.available,
                "used": memory.used,
                "percent": memory.percent,
                "swap_total": swap.total,
                "swap_used": swap.used,
            }
        if "disk" in sections:
            usage = psutil.disk_usage(disk_path)
            report["disk"] = {
                "path": disk_path,
                "total": usage.total,
                "used": usage.used,
                "free": usage.free,
                "percent": usage.percent,
            }
        if "system" in sections:
            boot = psutil.boot_time()
            report["system"] = {
                "platform": platform.system(),
                "release": platform.release(),
                "machine": platform.machine(),
                "python": platform.python_version(),
                "boot_time": boot,
                "uptime_seconds": round(time.time() - boot, 1),
                "process_count": len(psutil.pids()),
            }
    except (OSError, psutil.Error) as exc:
        raise ToolError(f"{NAME}: cannot read system figures: {exc}") from None
    return report
