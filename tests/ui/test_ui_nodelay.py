"""The Jupyter server extension turns Nagle's algorithm off on kernel websockets."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from marketplace import jupyter_nodelay


class FakeHandler:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def set_nodelay(self, value: bool) -> None:
        self.calls.append(("nodelay", value))

    async def open(self, kernel_id: str) -> str:
        self.calls.append(("open", kernel_id))
        return "opened"


def test_patched_open_sets_nodelay_before_opening_and_is_idempotent() -> None:
    jupyter_nodelay.patch_handler(FakeHandler)
    jupyter_nodelay.patch_handler(FakeHandler)
    handler = FakeHandler()
    assert asyncio.run(handler.open("k1")) == "opened"
    assert handler.calls == [("nodelay", True), ("open", "k1")]


def test_extension_patches_the_real_kernel_websocket_handler() -> None:
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    class App:
        class log:
            @staticmethod
            def info(msg: str) -> None:
                pass

    jupyter_nodelay._load_jupyter_server_extension(App)
    assert KernelWebsocketHandler in jupyter_nodelay.PATCHED


def test_extension_is_enabled_and_validates_in_this_environment() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"],
                         capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    block = text[text.index("marketplace.jupyter_nodelay"):]
    assert "enabled" in block.splitlines()[0]
    assert "OK" in block.splitlines()[2], block[:300]
