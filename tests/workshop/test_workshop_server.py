"""`marketplace workshop serve`: the attacks of issue 18 through the participant's client and raw HTTP.

The server runs in-process on a free loopback port (uvicorn in a thread: a real socket), on SQLite and on a
real PostgreSQL server. Every refusal must be one clear line, change nothing and be audited.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from marketplace import db, i18n
from marketplace.errors import MarketplaceError
from marketplace.models import AuditEvent, Participant, SessionToken
from marketplace.vocabulary import Role
from marketplace.workflows import clock
from marketplace.workshop.client import ServerRefused, WorkshopClient
from marketplace.workshop.roster import code_kdf_matches
from marketplace.workshop.server import JoinThrottle, ServerSettings, ServerThread, WorkshopServer
from marketplace.workshop.session import join

from .conftest import Workshop, make_workshop

LOCKOUT = 4


@dataclass
class Served:
    ws: Workshop
    server: WorkshopServer
    url: str

    def raw(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def client(self, code: str) -> WorkshopClient:
        return WorkshopClient(self.url, code)

    def refusals(self, action: str = "workshop.join") -> list[AuditEvent]:
        with Session(self.ws.engine) as s:
            return list(
                s.exec(
                    select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "refused")
                ).all()
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    url = (
        f"sqlite:///{tmp_path / 'ws.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    # No back-off, a short lockout: the tests make their misses back to back (back-off: test_throttle_*).
    server = WorkshopServer(
        engine, ServerSettings(free_misses=100, lockout_after=LOCKOUT, miss_window_s=3600)
    )
    with ServerThread(server.app) as running:
        yield Served(ws, server, running.url)
    engine.dispose()


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_refusal_reaches_the_participant_in_their_language(served: Served) -> None:
    """A participant notebook on another machine reads the server's refusals in the language it shows:
    the client sends it with every call (they all came back in English)."""
    seat = served.ws.seat("enterprise")
    shown: dict[str, tuple[str, ...]] = {}
    try:
        for lang in ("en", "zh"):
            i18n.set_language(lang)
            with served.client(seat.join_code) as me:
                with pytest.raises(ServerRefused) as not_theirs:
                    me.pause_clock()  # the trainer's
                with pytest.raises(ServerRefused) as missing:
                    me.accept_quote("REQ-999999")
            assert not_theirs.value.status == 403 and missing.value.status == 404
            with pytest.raises(ServerRefused) as unknown:  # the first thing a participant may get wrong
                WorkshopClient(served.url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
            with pytest.raises(ServerRefused) as malformed:
                WorkshopClient(served.url, "REQ-999999")
            with pytest.raises(MarketplaceError) as in_process:  # joining without the server
                join("ZZZZ-ZZZZ-ZZZZ-ZZZZ", served.ws.engine)
            assert unknown.value.status == 401 and malformed.value.status == 422
            shown[lang] = (
                str(not_theirs.value), str(missing.value), str(unknown.value), str(malformed.value),
                i18n.error_text(in_process.value),
            )  # fmt: skip
    finally:
        i18n.reset_language()
    assert all(CJK.search(m) and "\n" not in m for m in shown["zh"]), shown
    # the user's own name and what they typed stay as they are; the example code and the API path too
    names = {seat.username, "REQ-999999", "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "K7QM-3XTA-9PRD-W2HF", "anyone"}
    for message in shown["zh"]:
        words = re.findall(r"[A-Za-z][A-Za-z-]{2,}", message)
        assert not [w for w in words if not any(w in n for n in names)], message  # no English left
    assert not any(CJK.search(m) for m in shown["en"]), shown
    with served.raw() as http:  # no language asked for, or one the sandbox does not speak: English
        for header in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}, {"Accept-Language": "x" * 5000}):
            got = http.post("/api/join", json={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, headers=header).json()
            assert not CJK.search(got["message"]), got


def _participants(served: Served) -> list[Participant]:
    with Session(served.ws.engine) as s:
        return list(s.exec(select(Participant)).all())


def _one_line(resp: httpx.Response) -> str:
    body = resp.json()
    assert set(body) == {"error", "message"}
    assert "\n" not in body["message"] and "Traceback" not in body["message"]
    return body["message"]


def test_join_by_url_and_act_through_the_client(served: Served) -> None:
    dep = served.ws.seat("department")
    with served.client(dep.join_code) as me:
        ident = me.whoami()
        assert ident.account_id == dep.account_id and ident.roles == {Role.requester}
        assert "file_request" in me.allowed_actions()
        res = next(e for e in me.catalog() if e["kind"] == "resource" and "sharing" in e["channels"])
        receipt = me.file_request(
            purpose="public_governance", resource=res["code"], channel="sharing", key="k-own-0001"
        )
        assert receipt.action == "file_request" and not receipt.replayed
        again = me.file_request(
            purpose="public_governance", resource=res["code"], channel="sharing", key="k-own-0001"
        )
        assert again.replayed and again.subject_id == receipt.subject_id
        assert [r["code"] for r in me.my_requests()] == [receipt.result["code"]]


def test_the_client_holds_no_database(served: Served) -> None:
    with served.client(served.ws.seat("department").join_code) as me:
        held = repr(vars(me)) + repr(vars(me._http))
    assert "sqlite" not in held and "postgresql" not in held
    assert str(served.ws.engine.url.database) not in held


def test_a_participant_cannot_read_digests(served: Served) -> None:
    dep, trainer = served.ws.seat("department"), served.ws.trainer
    with Session(served.ws.engine) as s:
        digests = [p.join_code_hash for p in s.exec(select(Participant)).all()]
        kdfs = [p.join_code_kdf for p in s.exec(select(Participant)).all()]
    with served.client(dep.join_code) as me:
        seen = repr([me.whoami(), me.catalog(), me.my_requests(), me.exercises(), me.allowed_actions()])
    assert not any(d in seen for d in digests) and not any(k in seen for k in kdfs)
    with served.raw() as http:
        for path in ("/api/participants", "/api/participant", "/api/sql", "/docs", "/openapi.json"):
            assert http.get(path).status_code == 404
        # The trainer's digest is no code and no token: the old `_bind(engine, digest)` attack has no door.
        trainer_digest = next(
            p.join_code_hash for p in _participants(served) if p.account_id == trainer.account_id
        )
        r = http.post("/api/join", json={"code": trainer_digest})
        assert r.status_code == 422
        r = http.get("/api/me", headers={"Authorization": f"Bearer {trainer_digest}"})
        assert r.status_code == 401
    # Stored: the argon2id digest of each code, salted (two seats never share a digest string's salt).
    assert all(k.startswith("$argon2id$") for k in kdfs) and len({k.split("$")[4] for k in kdfs}) == len(kdfs)
    with Session(served.ws.engine) as s:
        row = s.exec(select(Participant).where(Participant.account_id == trainer.account_id)).one()
    assert code_kdf_matches(row.join_code_kdf, trainer.join_code.lower())


@pytest.mark.parametrize("op", ["pause", "advance", "checkpoint", "release", "dashboard", "revoke", "unlock"])
def test_a_participant_cannot_run_trainer_operations(served: Served, op: str) -> None:
    with Session(served.ws.engine) as s:
        before = clock.clock_state(s)
    refused_before = len(served.refusals(f"workshop.{_op_action(op)}"))
    with served.client(served.ws.seat("enterprise").join_code) as me:
        with pytest.raises(ServerRefused) as err:
            {
                "pause": me.pause_clock,
                "advance": lambda: me.advance_clock(5),
                "checkpoint": lambda: me.checkpoint("mine"),
                "release": me.release,
                "dashboard": me.dashboard,
                "revoke": lambda: me.revoke(everyone=True),
                "unlock": lambda: me.unlock(everyone=True),
            }[op]()
        assert err.value.status == 403 and "trainer" in str(err.value) and "\n" not in str(err.value)
    with Session(served.ws.engine) as s:
        assert clock.clock_state(s) == before
    assert len(served.refusals(f"workshop.{_op_action(op)}")) == refused_before + 1


def _op_action(op: str) -> str:
    return {"pause": "clock", "advance": "clock", "dashboard": "dashboard"}.get(
        op, op if op in ("checkpoint", "release") else "console"
    )


def test_raw_http_participant_cannot_pause_the_clock_or_insert_roles(served: Served) -> None:
    dep = served.ws.seat("department")
    with Session(served.ws.engine) as s:
        before = clock.clock_state(s)
    with served.raw() as http:
        token = http.post("/api/join", json={"code": dep.join_code}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        for action in ("pause", "resume"):
            r = http.post("/api/trainer/clock", json={"action": action}, headers=auth)
            assert r.status_code == 403 and "trainer" in _one_line(r)
        r = http.post("/api/trainer/clock", json={"action": "pause"}, headers=auth)
        assert r.status_code == 403 and "trainer" in _one_line(r)
        # A role or another account in the body is no field of any request: refused, nothing changed.
        for body in (
            {"purpose": "research", "resource": 1, "roles": ["trainer"]},
            {"purpose": "research", "resource": 1, "account_id": served.ws.trainer.account_id},
        ):
            r = http.post("/api/requests", json=body, headers=auth)
            assert r.status_code == 422 and "extra" in _one_line(r).lower()
        r = http.post("/api/join", json={"code": dep.join_code, "role": "trainer"})
        assert r.status_code == 422
        me = http.get("/api/me", headers=auth).json()
    assert me["roles"] == ["requester"] and me["account_id"] == dep.account_id
    with Session(served.ws.engine) as s:
        assert clock.clock_state(s) == before


def test_the_trainer_runs_the_workshop_through_the_server(served: Served) -> None:
    with served.client(served.ws.trainer.join_code) as boss:
        assert boss.pause_clock()["paused"] is True
        assert boss.advance_clock(2)["today"]
        assert boss.resume_clock()["paused"] is False
        assert boss.checkpoint("morning")["counts"]["participant"] == len(served.ws.seats) + 1
        assert boss.release() is not None
        assert int(boss.dashboard()["figures"]["participants"]) == len(served.ws.seats)


@pytest.mark.parametrize("how", ["bad", "expired", "revoked", "missing"])
def test_bad_expired_revoked_tokens_are_401_and_audited(served: Served, how: str) -> None:
    dep = served.ws.seat("department")
    with served.raw() as http:
        token = http.post("/api/join", json={"code": dep.join_code}).json()["token"]
        if how == "bad":
            token = token[:-4] + "AAAA"
        elif how == "expired":
            with db.session_scope(served.ws.engine) as s:
                s.connection().execute(
                    sa.update(SessionToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
                )
        elif how == "revoked":
            with served.client(served.ws.trainer.join_code) as boss:
                assert boss.revoke(seat=dep.seat) == 1
        headers = {} if how == "missing" else {"Authorization": f"Bearer {token}"}
        r = http.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    message = _one_line(r)
    assert {"bad": "unknown", "expired": "expired", "revoked": "revoked", "missing": "no session"}[
        how
    ] in message
    served.server.flush_refusals(everything=True)
    (event,) = served.refusals()
    reason = {
        "bad": "bad_token",
        "expired": "expired_token",
        "revoked": "revoked_token",
        "missing": "no_token",
    }
    assert event.payload["refused"] == {reason[how]: 1}


def test_revoked_session_of_the_client_then_join_again(served: Served) -> None:
    dep = served.ws.seat("steward")
    me = served.client(dep.join_code)
    with served.client(served.ws.trainer.join_code) as boss:
        assert boss.revoke(everyone=True) == 1  # the participant's; the trainer keeps their own
        assert boss.dashboard()
    with pytest.raises(ServerRefused, match="revoked by the trainer") as err:
        me.review_queue()
    assert err.value.status == 401
    with served.client(dep.join_code) as again:
        assert again.whoami().seat == dep.seat


def test_join_misses_lock_out_in_one_audit_event_and_the_trainer_unlocks(served: Served) -> None:
    dep = served.ws.seat("department")
    with served.raw() as http:
        for i in range(LOCKOUT):
            r = http.post("/api/join", json={"code": f"ZZZZ-ZZZZ-ZZZZ-ZZ{i:02d}"})
            assert r.status_code == 401 and "unknown join code" in _one_line(r)
        # Locked out: even the right code is refused from this client until the trainer unlocks it.
        r = http.post("/api/join", json={"code": dep.join_code})
        assert r.status_code == 429 and "ask the trainer" in _one_line(r)
        assert int(r.headers["retry-after"]) > 0
    served.server.flush_refusals(everything=True)
    events = served.refusals()
    # One event for the window of guesses (written at the lockout), not one per guess; the refused attempt
    # after it opens the next window.
    assert events[0].payload["refused"] == {"unknown_code": LOCKOUT} and events[0].payload["locked_out"]
    assert len(events) == 2 and events[1].payload["refused"] == {"locked_out": 1}


def test_the_trainer_unlocks_a_locked_out_client(served: Served) -> None:
    dep = served.ws.seat("department")
    boss = served.client(served.ws.trainer.join_code)  # signed in before the lockout
    with served.raw() as http:
        for _ in range(LOCKOUT):
            http.post("/api/join", json={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
        assert http.post("/api/join", json={"code": dep.join_code}).status_code == 429
        assert boss.lockouts()
        assert boss.unlock(client="127.0.0.1") >= 1
        assert http.post("/api/join", json={"code": dep.join_code}).status_code == 200
    with Session(served.ws.engine) as s:
        unlocked = s.exec(select(AuditEvent).where(AuditEvent.action == "workshop.unlock")).all()
    assert len(unlocked) == 1
    boss.close()


def test_idempotency_keys_are_scoped_to_the_account(served: Served) -> None:
    a, b = served.ws.seat("department", 0), served.ws.seat("enterprise", 0)
    with served.client(a.join_code) as alice, served.client(b.join_code) as bob:
        res = next(e for e in alice.catalog() if e["kind"] == "resource" and "sharing" in e["channels"])
        mine = alice.file_request(
            purpose="public_governance", resource=res["code"], channel="sharing", key="shared-key-01"
        )
        with pytest.raises(ServerRefused, match="another account") as err:
            bob.file_request(
                purpose="public_governance", resource=res["code"], channel="sharing", key="shared-key-01"
            )
        assert err.value.status == 403 and mine.result["code"] not in str(err.value)
        assert bob.my_requests() == []
    with served.raw() as http:
        token = http.post("/api/join", json={"code": b.join_code}).json()["token"]
        r = http.post(
            f"/api/requests/{mine.result['code']}/withdraw",
            json={"key": "shared-key-01"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 403 and "another account" in _one_line(r)
    assert "result" not in r.json()


@settings(max_examples=25, deadline=None)
@given(code=st.text(max_size=70))
def test_any_join_code_text_is_refused_in_one_line(served_sqlite: Served, code: str) -> None:
    served_sqlite.server.throttle.unlock(everyone=True)
    with served_sqlite.raw() as http:
        r = http.post("/api/join", json={"code": code})
    assert r.status_code in (401, 422)
    _one_line(r)


@pytest.fixture(scope="module")
def served_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One SQLite workshop server for the property test (its examples share it)."""
    os.environ.setdefault("MARKETPLACE_HOME", str(tmp_path_factory.mktemp("home")))
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('ws') / 'ws.db'}")
    ws = make_workshop(engine)
    server = WorkshopServer(engine, ServerSettings(free_misses=10_000, lockout_after=10_000))
    with ServerThread(server.app) as running:
        yield Served(ws, server, running.url)
    engine.dispose()


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["miss", "wait", "ok"]), st.floats(0, 100)), max_size=40))
def test_throttle_back_off_and_lockout(steps: list[tuple[str, float]]) -> None:
    """Never more than `free_misses` misses without waiting out the back-off; locked after `lockout_after`
    until unlocked; one audit payload per window whatever the number of misses."""
    cfg = ServerSettings(free_misses=2, backoff_base_s=1, backoff_max_s=8, lockout_after=6, miss_window_s=30)
    now = FakeClock()
    th = JoinThrottle(cfg, now)
    keys = [("client", "10.0.0.9")]
    misses, events = 0, []
    for kind, dt in steps:
        if kind == "wait":
            now.t += dt
            continue
        wait = th.wait(keys)
        if misses >= cfg.lockout_after:
            assert wait == math.inf
            continue
        if misses > cfg.free_misses - 1 and wait == 0:
            pass
        if wait > 0:
            assert misses >= cfg.free_misses
            continue
        if kind == "miss":
            th.miss(keys, "10.0.0.9", "unknown_code")
            misses += 1
        else:
            th.succeeded(keys)
            misses = 0
        events += th.due_events()
    events += th.due_events(everything=True)
    assert all(e["client"] == "10.0.0.9" for e in events)
    total = sum(e["refused"].get("unknown_code", 0) for e in events)
    assert total == sum(1 for k, _ in steps if k == "miss") - _skipped(steps, cfg)
    assert th.unlock(client="10.0.0.9") in (0, 1) and th.wait(keys) == 0


def _skipped(steps: list[tuple[str, float]], cfg: ServerSettings) -> int:
    """Replay the same run to count the misses the throttle turned away (they never reached the check)."""
    now = FakeClock()
    th = JoinThrottle(cfg, now)
    keys = [("client", "x")]
    skipped = 0
    for kind, dt in steps:
        if kind == "wait":
            now.t += dt
        elif th.wait(keys) > 0:
            skipped += kind == "miss"
        elif kind == "miss":
            th.miss(keys, "x", "unknown_code")
        else:
            th.succeeded(keys)
    return skipped


def test_back_off_doubles_and_caps() -> None:
    cfg = ServerSettings(free_misses=1, backoff_base_s=1, backoff_max_s=4, lockout_after=50)
    now = FakeClock()
    th = JoinThrottle(cfg, now)
    keys = [("code", "d")]
    waits = []
    for _ in range(5):
        th.miss(keys, "c", "unknown_code")
        waits.append(th.wait(keys))
        now.t += waits[-1]
    assert waits == [1, 2, 4, 4, 4]


@pytest.mark.timeout(120)
def test_cli_serve_prints_the_url_on_a_free_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    engine.dispose()
    roster = tmp_path / "roster.csv"
    from marketplace.workshop.roster import write_roster

    write_roster([ws.trainer, *ws.seats], roster)
    env = {**os.environ, "MARKETPLACE_DB_URL": url, "MARKETPLACE_TRAINER_CODE": ws.trainer.join_code}
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketplace", "workshop", "serve", "--port", "0", "--roster", str(roster)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        served_at = next(line.split()[2] for line in lines if line.startswith("workshop server:"))
        assert served_at.startswith("http://127.0.0.1:") and not served_at.endswith(":0")
        assert served_at in roster.read_text() and oct(roster.stat().st_mode & 0o777) == "0o600"
        with WorkshopClient(served_at, ws.seat("operator").join_code) as me:
            assert me.whoami().roles == {Role.operator}
        with httpx.Client(base_url=served_at) as http:
            for _ in range(4):  # three free misses, then back-off
                http.post("/api/join", json={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
            assert http.post("/api/join", json={"code": ws.seat("operator").join_code}).status_code == 429
        # The trainer, on the same machine, still gets in and lifts the back-off of the address.
        unlocked = subprocess.run(
            [sys.executable, "-m", "marketplace", "workshop", "unlock", "--url", served_at, "--all"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert unlocked.returncode == 0 and unlocked.stdout.startswith("1 lockouts lifted"), unlocked.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    # The trainer's CLI revokes sessions in the database directly.
    out = subprocess.run(
        [sys.executable, "-m", "marketplace", "workshop", "revoke", "--all"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.startswith("0 sessions revoked"), out.stderr  # close() left


def test_cli_serve_refuses_without_the_trainer_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    engine.dispose()
    env = {
        **os.environ,
        "MARKETPLACE_DB_URL": url,
        "MARKETPLACE_TRAINER_CODE": ws.seat("department").join_code,
    }
    out = subprocess.run(
        [sys.executable, "-m", "marketplace", "workshop", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2 and "trainer" in out.stderr and "Traceback" not in out.stderr


def test_the_participant_notebook_asks_for_url_and_code(served: Served) -> None:
    from marketplace.ui.workshop import JoinBox, ParticipantPanel, participant_app
    from marketplace.workshop.client import WorkshopClient

    box = participant_app()
    assert isinstance(box, JoinBox)
    box.url.value, box.code.value = served.url, "ZZZZ-ZZZZ-ZZZZ-ZZZ2"
    assert box.join() is None and "roster" in box.feedback.value
    box.url.value, box.code.value = "http://127.0.0.1:9", served.ws.seat("steward").join_code
    assert box.join() is None and "127.0.0.1:9" in box.feedback.value
    box.url.value = served.url
    panel = box.join()
    assert isinstance(panel, ParticipantPanel) and isinstance(panel.session, WorkshopClient)
    assert box.children == (panel,) and panel.session.whoami().seat == served.ws.seat("steward").seat


def test_cors_is_off_by_default_and_on_for_a_named_origin(served: Served) -> None:
    origin = "https://voila.example.org"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    with served.raw() as http:
        r = http.options("/api/join", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
    server = WorkshopServer(served.ws.engine, ServerSettings(cors_origins=(origin,)))
    with ServerThread(server.app) as running, httpx.Client(base_url=running.url) as http:
        r = http.options("/api/join", headers=preflight)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
        r = http.options("/api/join", headers={**preflight, "Origin": "https://elsewhere.example.org"})
        assert "access-control-allow-origin" not in r.headers


def test_a_seat_from_before_slow_digests_gets_one_at_its_first_join(served: Served) -> None:
    dep = served.ws.seat("operator")
    with db.session_scope(served.ws.engine) as s:
        s.connection().execute(
            sa.update(Participant).where(Participant.account_id == dep.account_id).values(join_code_kdf="")
        )
    with served.client(dep.join_code) as me:
        assert me.whoami().account_id == dep.account_id
    with Session(served.ws.engine) as s:
        row = s.exec(select(Participant).where(Participant.account_id == dep.account_id)).one()
    assert code_kdf_matches(row.join_code_kdf, dep.join_code)


def test_the_trainer_gets_in_from_a_locked_out_address_and_nobody_else(served: Served) -> None:
    dep = served.ws.seat("department")
    with served.raw() as http:
        for _ in range(LOCKOUT):
            http.post("/api/join", json={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
        assert http.post("/api/join", json={"code": dep.join_code}).status_code == 429
        wrong_for_trainer = served.ws.trainer.join_code[:-1] + (
            "2" if served.ws.trainer.join_code[-1] != "2" else "3"
        )
        assert http.post("/api/join", json={"code": wrong_for_trainer}).status_code == 429
    with served.client(served.ws.trainer.join_code) as boss:
        assert boss.unlock(client="127.0.0.1") == 1
    with served.client(dep.join_code) as me:
        assert me.whoami().account_id == dep.account_id


@pytest.mark.parametrize("threads", [0, -1, 257])
def test_a_worker_thread_count_out_of_range_is_refused_by_name(threads: int) -> None:
    from marketplace.errors import InvalidInput

    with pytest.raises(InvalidInput, match="threads"):
        ServerSettings(threads=threads)


def test_a_participant_request_reaches_no_private_name_of_the_session(served_sqlite: Served) -> None:
    """The server's caller proxy forwards only the session's public actions (whatever a request names)."""
    from marketplace.workshop.server import Caller

    caller = Caller(served_sqlite.server, None)  # type: ignore[arg-type]
    for name in ("_write", "_engine", "_code_hash", "account_id", "roles", "no_such_action"):
        with pytest.raises(AttributeError):
            getattr(caller, name)
    assert callable(caller.file_request)
