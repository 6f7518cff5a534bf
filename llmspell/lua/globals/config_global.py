"""``Config``: the run's configuration, read-only, with secrets redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge


def install(bridge: Bridge) -> None:
    services = bridge.services

    def get(path: Any = None) -> Any:
        data: Any = bridge.config.to_dict(redact=True)
        if path is None or path == "":
            return data
        if not isinstance(path, str):
            raise ValidationError(f"Config.get: path must be a string, got {type(path).__name__}")
        for part in path.split("."):
            if not isinstance(data, dict) or part not in data:
                return None
            data = data[part]
        return data

    fns = {
        "get": bridge.sync(get, "Config.get"),
        "isFileAccessAllowed": bridge.sync(
            lambda: services.permissions.file_access_allowed(), "Config.isFileAccessAllowed"
        ),
        "isNetworkAccessAllowed": bridge.sync(
            lambda: services.permissions.network_access_allowed(), "Config.isNetworkAccessAllowed"
        ),
        "getPermissions": bridge.sync(
            lambda: services.permissions.describe(), "Config.getPermissions"
        ),
    }
    fns["is_file_access_allowed"] = fns["isFileAccessAllowed"]
    fns["is_network_access_allowed"] = fns["isNetworkAccessAllowed"]
    fns["get_permissions"] = fns["getPermissions"]
    bridge.define_global("Config", fns)
