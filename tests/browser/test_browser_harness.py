"""The browser harness itself: a missing browser is a failure that says how to install it, never a skip."""

from __future__ import annotations

import lab_harness
import pytest


def test_missing_chromium_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_harness, "CHROMIUM", "/nonexistent/chromium")
    problem = lab_harness.chromium_problem()
    assert problem is not None and "apt-get install -y chromium" in problem


def test_chromium_recipe_is_the_agreed_one() -> None:
    assert lab_harness.CHROMIUM == "/usr/bin/chromium"
    assert lab_harness.CHROMIUM_ARGS == [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]


def test_free_port_is_free() -> None:
    import socket

    port = lab_harness.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
