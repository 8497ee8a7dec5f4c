"""The workshop client and a connection the server closed while it sat idle (keep-alive timeout): a read or a
keyed write is sent once more on a new connection (the server replays a key it has seen); anything else, or
a second failure, is one `Unreachable` line."""

from __future__ import annotations

import json

import httpx
import pytest

from marketplace.workshop.client import ServerRefused, WorkshopClient


class FlakyServer:
    """Answers like the workshop server, but drops the connection of the first `drops` requests to `path`."""

    def __init__(self, path: str, drops: int) -> None:
        self.path, self.drops = path, drops
        self.seen: list[tuple[str, str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.seen.append((request.method, request.url.path, body))
        if request.url.path == self.path and self.drops:
            self.drops -= 1
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if request.url.path == "/api/join":
            return httpx.Response(200, json={"token": "t0", "expires_at": "2026-12-31T00:00:00+00:00"})
        if request.url.path == "/api/allowed":
            return httpx.Response(200, json=["accept_quote"])
        receipt = {"key": body.get("key"), "action": "accept_quote", "subject_type": "request"}
        receipt["subject_id"] = 7
        return httpx.Response(200, json={**receipt, "result": {}, "replayed": False})


def _client(server: FlakyServer) -> WorkshopClient:
    return WorkshopClient("http://127.0.0.1:9", "CODE", transport=httpx.MockTransport(server))


def test_a_keyed_write_on_a_dropped_connection_is_sent_again_under_the_same_key() -> None:
    server = FlakyServer("/api/requests/7/accept", drops=1)
    receipt = _client(server).accept_quote(7, key="k-1")
    assert receipt.key == "k-1"
    sent = [(m, p, b.get("key")) for m, p, b in server.seen if p.endswith("/accept")]
    assert sent == [("POST", "/api/requests/7/accept", "k-1")] * 2  # the same key: the server replays it


def test_a_read_is_sent_again_and_a_second_drop_is_one_unreachable_line() -> None:
    assert _client(FlakyServer("/api/allowed", drops=1)).allowed_actions() == ["accept_quote"]
    with pytest.raises(ServerRefused) as exc:
        _client(FlakyServer("/api/allowed", drops=2)).allowed_actions()
    assert exc.value.error == "Unreachable" and "\n" not in str(exc.value)


def test_a_call_without_a_key_is_never_sent_twice() -> None:
    server = FlakyServer("/api/join", drops=1)
    with pytest.raises(ServerRefused) as exc:
        _client(server)  # joining issues a session: sent again, it could issue two
    assert exc.value.error == "Unreachable"
    assert [p for _, p, _ in server.seen] == ["/api/join"]
