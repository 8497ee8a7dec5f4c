"""Workshop participants reach operator selection and list-based sharing only through the server.

A department cites its sharing responsibility list, an operator applies to the open selection round, and the
implementing institution's steward scores and decides it, each through the participant's HTTP client and raw
HTTP, on SQLite and on a real PostgreSQL server. Every refusal is one line, changes nothing and is audited
with the attempted action and its input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from marketplace import db
from marketplace.models import AccessRequest, AuditEvent, SelectionApplication, SelectionRound
from marketplace.workshop import join
from marketplace.workshop.client import ServerRefused, WorkshopClient
from marketplace.workshop.server import ServerSettings, ServerThread, WorkshopServer

from .conftest import Workshop, make_workshop

SCORES = {"technical": 80, "security": 85, "service_plan": 70, "fee_proposal": 75}
CAPITAL = "20000000.00"


@dataclass
class Served:
    ws: Workshop
    url: str

    def client(self, group: str, n: int = 0) -> WorkshopClient:
        return WorkshopClient(self.url, self.ws.seat(group, n).join_code)

    def raw(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def token(self, group: str, n: int = 0) -> dict[str, str]:
        with self.raw() as http:
            got = http.post("/api/join", json={"code": self.ws.seat(group, n).join_code}).json()
        return {"Authorization": f"Bearer {got['token']}"}

    def refused(self, action: str) -> list[AuditEvent]:
        with Session(self.ws.engine) as s:
            return list(
                s.exec(
                    select(AuditEvent)
                    .where(AuditEvent.action == action, AuditEvent.outcome == "refused")
                    .order_by(AuditEvent.seq)
                ).all()
            )

    def count(self, model: Any) -> int:
        with Session(self.ws.engine) as s:
            return len(s.exec(select(model)).all())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    url = (
        f"sqlite:///{tmp_path / 'ws.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    server = WorkshopServer(engine, ServerSettings(free_misses=100, miss_window_s=3600))
    with ServerThread(server.app) as running:
        yield Served(ws, running.url)
    engine.dispose()


def _one_line(resp: httpx.Response) -> str:
    body = resp.json()
    assert set(body) == {"error", "message"}
    assert "\n" not in body["message"] and "Traceback" not in body["message"]
    return body["message"]


def _institution_steward(served: Served) -> tuple[int, WorkshopClient]:
    """The steward seat whose department runs the open round (the practice world's implementing
    institution), found by what the server says, not by a fixed seat."""
    for n in range(len([s for s in served.ws.seats if s.group == "steward"])):
        me = served.client("steward", n)
        if any(r["run_by_my_organization"] for r in me.selection_rounds()):
            return n, me
        me.close()
    raise AssertionError("no steward seat sits in the implementing institution")


# ------------------------------------------------------------------ sharing responsibility lists


def test_a_department_shares_through_its_list(served: Served) -> None:
    with served.client("department") as dep:
        assert "citable_entries" in dep.allowed_actions()
        entries = dep.citable_entries()
        assert entries and all(e["holder"] != dep.whoami().organization for e in entries)
        entry = entries[0]
        assert entry["resource_title"] and entry["purposes"] == ["public_governance"]
        receipt = dep.file_request(
            purpose="public_governance",
            resource=entry["resource"],
            channel="sharing",
            list_entry=entry["code"],
            key="cite-list-0001",
        )
        assert receipt.result["list_entry"] == entry["code"] and receipt.result["status"] == "in_review"
        again = dep.file_request(
            purpose="public_governance",
            resource=entry["resource"],
            channel="sharing",
            list_entry=entry["code"],
            key="cite-list-0001",
        )
        assert again.replayed and again.subject_id == receipt.subject_id
        assert [r["list_entry"] for r in dep.my_requests()] == [entry["code"]]
    with Session(served.ws.engine) as s:
        req = s.get(AccessRequest, receipt.subject_id)
        assert req.list_entry is not None and req.list_entry.code == entry["code"]
    # Raw HTTP: the same action, the entry by id.
    headers = served.token("department", 1)
    with served.raw() as http:
        citable = http.get("/api/sharing-lists/citable", headers=headers).json()
        r = http.post(
            "/api/requests",
            headers=headers,
            json={
                "purpose": "public_governance",
                "resource": citable[-1]["resource"],
                "channel": "sharing",
                "list_entry": citable[-1]["id"],
                "key": "cite-list-raw-01",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["result"]["list_entry"] == citable[-1]["code"]


def test_an_enterprise_citing_a_list_is_refused_and_audited(served: Served) -> None:
    with served.client("department") as dep:
        entry = dep.citable_entries()[0]
    before = served.count(AccessRequest)
    with served.client("enterprise") as ent:
        assert "citable_entries" not in ent.allowed_actions()
        with pytest.raises(ServerRefused) as err:
            ent.file_request(
                purpose="public_governance", resource=entry["resource"], channel="sharing",
                list_entry=entry["code"],
            )
    assert err.value.status == 403 and "department" in str(err.value) and "\n" not in str(err.value)
    assert served.count(AccessRequest) == before
    last = served.refused("request.create")[-1]
    assert last.payload["input"]["action"] == "workshop.file_request"
    assert last.payload["input"]["list_entry"] == entry["code"]


def test_citing_an_entry_for_another_resource_is_refused(served: Served) -> None:
    headers = served.token("department")
    with served.raw() as http:
        entries = http.get("/api/sharing-lists/citable", headers=headers).json()
        other = next(e for e in entries if e["resource"] != entries[0]["resource"])
        r = http.post(
            "/api/requests",
            headers=headers,
            json={"purpose": "public_governance", "resource": entries[0]["resource"], "channel": "sharing",
                  "list_entry": other["code"]},
        )
        assert r.status_code == 403 and other["code"] in _one_line(r)
        r = http.post(
            "/api/requests",
            headers=headers,
            json={"purpose": "public_governance", "resource": entries[0]["resource"], "channel": "sharing",
                  "list_entry": "SCE-2099-999999"},
        )
        assert r.status_code == 404 and "SCE-2099-999999" in _one_line(r)
    assert served.count(AccessRequest) == 0
    assert served.refused("request.create")[-1].payload["input"]["list_entry"] == other["code"]


# ------------------------------------------------------------------ operator selection


def test_apply_score_and_decide_through_the_server(served: Served) -> None:
    with served.client("operator") as op:
        assert {"selection_rounds", "apply_for_selection"} <= set(op.allowed_actions())
        rounds = op.selection_rounds()
        open_round = next(r for r in rounds if r["status"] == "open")
        assert open_round["institution"] and all(" " in res for res in open_round["resources"])
        assert set(open_round["criteria"]) == set(SCORES)
        receipt = op.apply_for_selection(
            open_round["code"], security_level=3, registered_capital=CAPITAL, statement="Secure platform",
            key="apply-0001",
        )
        assert receipt.result["qualified"] is True and receipt.result["operator"] == op.whoami().organization
        assert op.apply_for_selection(
            open_round["code"], security_level=3, registered_capital=CAPITAL, key="apply-0001"
        ).replayed
        mine = next(r for r in op.selection_rounds() if r["code"] == open_round["code"])["my_application"]
        assert mine["qualified"] and mine["total"] is None
    _n, steward = _institution_steward(served)
    with steward:
        assert {"score_application", "decide_selection"} <= set(steward.allowed_actions())
        mine_to_run = next(r for r in steward.selection_rounds() if r["run_by_my_organization"])
        app = mine_to_run["applications"][0]
        scored = steward.score_application(app["id"], SCORES)
        assert scored.result["total"] == "78.50" and scored.result["scores"] == SCORES
        decided = steward.decide_selection(mine_to_run["code"], note="Best technical offer")
        assert decided.result["status"] == "decided"
        assert decided.result["winner"] == app["operator"]
        assert decided.result["ranking"] == [{"operator": app["operator"], "total": "78.50"}]
        after = next(r for r in steward.selection_rounds() if r["code"] == mine_to_run["code"])
        assert after["winner"] == app["operator"] and after["notice_until"]
    with Session(served.ws.engine) as s:
        rnd = s.exec(select(SelectionRound).where(SelectionRound.code == open_round["code"])).one()
        assert rnd.status.value == "decided" and rnd.decided_by is not None


def test_selection_by_raw_http(served: Served) -> None:
    op = served.token("operator")
    with served.raw() as http:
        rounds = http.get("/api/selections", headers=op).json()
        code = rounds[0]["code"]
        r = http.post(f"/api/selections/{code}/apply", headers=op,
                      json={"security_level": 2, "registered_capital": CAPITAL, "key": "raw-apply-1"})
        assert r.status_code == 200 and r.json()["result"]["qualified"] is False
        assert r.json()["result"]["failed_criterion"] == "security_level"
        # A body naming an account or a role is refused before anything runs.
        r = http.post(f"/api/selections/{code}/apply", headers=op,
                      json={"security_level": 3, "registered_capital": CAPITAL, "account_id": 1})
        assert r.status_code == 422 and "account_id" in _one_line(r)
        r = http.post(f"/api/selections/{code}/apply", headers=op,
                      json={"security_level": "three", "registered_capital": CAPITAL})
        assert r.status_code == 422 and "security_level" in _one_line(r)
        r = http.get("/api/selections")
        assert r.status_code == 401
    n, _steward = _institution_steward(served)
    _steward.close()
    steward = served.token("steward", n)
    with served.raw() as http:
        app_id = http.get("/api/selections", headers=steward).json()[0]["applications"][0]["id"]
        # A disqualified applicant is not scored: the qualification rule refuses, naming itself.
        r = http.post(f"/api/selections/applications/{app_id}/score", headers=steward,
                      json={"scores": SCORES})
        assert r.status_code == 403 and "security" in _one_line(r).lower()
        r = http.post(f"/api/selections/{code}/decide", headers=steward, json={"note": "no one qualified"})
        assert r.status_code == 200 and r.json()["result"]["status"] == "failed"


def test_an_operator_applying_twice_is_refused_and_audited(served: Served) -> None:
    with served.client("operator") as op:
        code = op.selection_rounds()[0]["code"]
        op.apply_for_selection(code, security_level=3, registered_capital=CAPITAL)
        with pytest.raises(ServerRefused) as err:
            op.apply_for_selection(code, security_level=4, registered_capital=CAPITAL, statement="again")
    assert err.value.status in (403, 409) and "applied already" in str(err.value)
    assert served.count(SelectionApplication) == 1
    last = served.refused("selection.apply")[-1]
    assert last.payload["input"] == {
        "action": "workshop.apply_for_selection",
        "selection": code,
        "security_level": 4,
        "registered_capital": CAPITAL,
        "statement": "again",
    }


@pytest.mark.parametrize("group", ["department", "steward_elsewhere", "operator"])
def test_scoring_without_the_role_is_refused_and_audited(served: Served, group: str) -> None:
    with served.client("operator") as op:
        code = op.selection_rounds()[0]["code"]
        op.apply_for_selection(code, security_level=3, registered_capital=CAPITAL)
    n, steward = _institution_steward(served)
    with steward:
        app_id = steward.selection_rounds()[0]["applications"][0]["id"]
    who = served.client("steward", 1 - n) if group == "steward_elsewhere" else served.client(group)
    with who:
        with pytest.raises(ServerRefused) as err:
            who.score_application(app_id, SCORES)
        assert err.value.status == 403 and "\n" not in str(err.value)
        with pytest.raises(ServerRefused) as undecided:
            who.decide_selection(code)
        assert undecided.value.status == 403
    with Session(served.ws.engine) as s:
        app = s.get(SelectionApplication, app_id)
        assert app.total is None and not app.scores
        assert s.exec(select(SelectionRound).where(SelectionRound.code == code)).one().status.value == "open"
    score = served.refused("selection.score")[-1]
    assert score.payload["input"] == {
        "action": "workshop.score_application", "application": app_id, "scores": SCORES,
    }
    assert served.refused("selection.decide")[-1].payload["input"]["action"] == "workshop.decide_selection"


def test_a_department_cannot_apply_and_an_unscored_round_is_not_decided(served: Served) -> None:
    with served.client("department") as dep:
        code = dep.selection_rounds()[0]["code"]
        with pytest.raises(ServerRefused) as err:
            dep.apply_for_selection(code, security_level=3, registered_capital=CAPITAL)
        assert err.value.status == 403
    assert served.refused("selection.apply")[-1].payload["input"]["selection"] == code
    with served.client("operator") as op:
        op.apply_for_selection(code, security_level=3, registered_capital=CAPITAL)
    _n, steward = _institution_steward(served)
    with steward:
        with pytest.raises(ServerRefused) as err:
            steward.decide_selection(code)
        assert "not scored yet" in str(err.value)
    assert served.refused("selection.decide")[-1].payload["input"]["selection"] == code


def test_in_process_sessions_offer_the_same_actions(workshop: Workshop) -> None:
    """The one-machine sandbox (no server): the same session methods, the same rules."""
    dep = join(workshop.seat("department").join_code, workshop.engine)
    entry = dep.citable_entries()[0]
    got = dep.file_request(purpose="public_governance", resource=entry["resource"], channel="sharing",
                           list_entry=entry["id"])
    assert got.result["list_entry"] == entry["code"]
    op = join(workshop.seat("operator").join_code, workshop.engine)
    code = op.selection_rounds()[0]["code"]
    applied = op.apply_for_selection(code, security_level=3, registered_capital=CAPITAL)
    assert applied.result["round"] == code
