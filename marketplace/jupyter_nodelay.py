"""Jupyter server extension: send kernel websocket frames at once (TCP_NODELAY).

Why: widget messages are small, and without TCP_NODELAY Nagle's algorithm holds each one back until the
browser's delayed ACK (about 40 ms on Linux) — on its own nearly the whole budget of a live quote refresh.
Tornado offers `set_nodelay` for exactly this; jupyter_server does not call it on the kernel channel.
Enabled by `make lab` and Binder's postBuild with `jupyter server extension enable --sys-prefix`.
"""

from __future__ import annotations

import json
import sys
import weakref
from pathlib import Path
from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "marketplace.jupyter_nodelay"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    patch_handler(KernelWebsocketHandler)
    serverapp.log.info("marketplace: kernel websockets send with TCP_NODELAY")


PATCHED: weakref.WeakSet[type] = weakref.WeakSet()  # handler classes already wrapped


def patch_handler(handler: type) -> type:
    """Wrap `handler.open` so every new kernel websocket turns Nagle's algorithm off (idempotent)."""
    if handler in PATCHED:
        return handler
    original = handler.open

    async def open(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.set_nodelay(True)
        result = original(self, *args, **kwargs)
        if hasattr(result, "__await__"):
            result = await result
        return result

    handler.open = open
    PATCHED.add(handler)
    return handler


def install(prefix: str | None = None) -> Path:
    """Enable the extension in this environment's Jupyter config (`python -m marketplace.jupyter_nodelay`).

    jupyter_server only toggles extensions that a config file already names, so write that file directly.
    """
    config_d = Path(prefix or sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d"
    target = config_d / "marketplace-nodelay.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    config = {"ServerApp": {"jpserver_extensions": {"marketplace.jupyter_nodelay": True}}}
    target.write_text(json.dumps(config, indent=2) + "\n")
    return target


if __name__ == "__main__":
    print(f"enabled marketplace.jupyter_nodelay in {install()}")
