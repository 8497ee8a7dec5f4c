"""Many participants at once: worker processes driving agents, and the audit of what they were told.

Each worker is a separate OS process (forked, with its own engine) that joins with one join code and runs a
seeded `Agent` for the run's seconds, with a think time between steps; the seconds start once every worker has
joined (`ready`), so a slow start-up shortens nobody's run. It appends one JSON line per event to its own log
*before* it could be lost: `start` before a write, `ack` once the write is committed, `error` for a domain
refusal, `unhandled` for anything else. `verify_run` then checks the database against those logs:

- every acknowledged write has its receipt and exactly ONE matching audit event (nothing lost, nothing
  doubled);
- no receipt or audit event exists for a write that was never acknowledged, except the at most one per worker
  that was in flight when the worker was killed or lost its connection (outcome unknown to the worker);
- no partial state: no request left in draft, every request has its `request.create` and `request.submit`
  events, and the audit chain verifies.

With `server_url` the workers hold no database at all: each joins the workshop server (`marketplace workshop
serve`) with its code and acts through the HTTP client, as a participant notebook on another machine does;
`verify_run` checks the database behind the server the same way.

Used by `benchmarks/bench_workshop.py`, `benchmarks/bench_workshop_server.py` and the load tests.
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import os
import signal
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import select

from marketplace import db
from marketplace.models import AccessRequest, ActionReceipt, AuditEvent
from marketplace.workflows import audit

# The audit event that proves each write landed: (action name, subject type).
PRIMARY_EVENT = {
    "file_request": "request.submit",
    "accept_quote": "request.accept_quote",
    "decide": "review.decide",
    "withdraw": "request.withdraw",
    "report_usage": "grant.report_usage",
    "deliver": "request.deliver",
    "set_price": "product.price",
    "list_product": "product.list",
}
WRITES = frozenset(PRIMARY_EVENT)


@dataclass(frozen=True)
class WorkerSpec:
    url: str
    code: str
    seed: int
    log_path: str
    go_path: str  # the parent writes the run's start time here once every worker is ready
    seconds: float
    forked_at: float
    ready_timeout_s: float
    think_s: tuple[float, float] = (1.0, 4.0)
    kill_in_write_after: int | None = None  # SIGKILL itself inside its N-th write, before commit (requesters
    # then only file requests, so that the write happens at a known moment)
    server_url: str | None = None  # act through this workshop server instead of the database
    stop_path: str | None = None  # the run ends early once this file exists (see `LiveRun.stop`)


def _log(fh: Any, **rec: Any) -> None:
    fh.write(json.dumps(rec, default=str) + "\n")
    fh.flush()


def worker_main(spec: WorkerSpec) -> None:
    """Body of one participant process (see the module docstring)."""
    from marketplace.workshop.agents import Agent
    from marketplace.workshop.session import RECEIPT_PENDING, join

    with open(spec.log_path, "a", encoding="utf-8", buffering=1) as fh:
        try:
            db.dispose_engines()
            writes = {"n": 0}

            def on_start(action: str, key: str) -> None:
                writes["n"] += 1
                _log(fh, phase="start", action=action, key=key, t=time.time())

            if spec.kill_in_write_after is not None:

                def kill_before_commit(session: OrmSession) -> None:
                    if session.info.get(RECEIPT_PENDING) and writes["n"] >= spec.kill_in_write_after:
                        _log(fh, phase="killing", t=time.time())
                        os.kill(os.getpid(), signal.SIGKILL)

                event.listen(OrmSession, "before_commit", kill_before_commit)

            if spec.server_url:
                from marketplace.workshop.client import WorkshopClient

                session: Any = WorkshopClient(spec.server_url, spec.code)
            else:
                session = join(spec.code, db.make_engine(spec.url))
            agent = Agent(session, seed=spec.seed, on_start=on_start)
            agent.warm_up()
            rng = np.random.default_rng(spec.seed)
            now = time.time()
            _log(fh, phase="ready", t=now, account_id=agent.session.account_id, after_s=now - spec.forked_at)
            stop_at = _await_start(spec.go_path, spec.ready_timeout_s + 60.0) + spec.seconds
            while time.time() < stop_at and not (spec.stop_path and os.path.exists(spec.stop_path)):
                killing = (
                    spec.kill_in_write_after is not None and "file_request" in agent.session.allowed_actions()
                )
                for out in agent.file_once() if killing else agent.step():
                    rec: dict[str, Any] = {
                        "action": out.action,
                        "latency": out.latency_s,
                        "key": out.key,
                        "t": time.time(),
                    }
                    if out.ok:
                        rec["phase"] = "ack" if out.receipt is not None else "read"
                        if out.receipt is not None:
                            rec.update(
                                subject_type=out.receipt.subject_type,
                                subject_id=out.receipt.subject_id,
                                replayed=out.receipt.replayed,
                            )
                    else:
                        rec.update(phase="error", error=out.error, message=out.message[:300])
                    _log(fh, **rec)
                time.sleep(float(rng.uniform(*spec.think_s)))
            from marketplace.workshop.session import RETRIES

            _log(fh, phase="done", t=time.time(), retries=dict(RETRIES))
        except BaseException as exc:  # a worker must report, never die silently
            _log(
                fh,
                phase="unhandled",
                error=type(exc).__name__,
                message=str(exc)[:500],
                trace=traceback.format_exc()[-3000:],
                t=time.time(),
            )
            raise


def _await_start(go_path: str, timeout: float) -> float:
    """The run's start time, once the parent has written it (every worker ready, or its wait over)."""
    deadline = time.time() + timeout
    while True:
        try:
            return float(Path(go_path).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            if time.time() > deadline:
                raise TimeoutError(f"no start signal in {timeout:.0f} s (the parent stopped?)") from None
            time.sleep(0.01)


def _announce_start(go_path: Path) -> float:
    """Write the start time atomically (a worker never reads half of it) and return it."""
    start = time.time()
    tmp = go_path.with_suffix(".tmp")
    tmp.write_text(repr(start), encoding="utf-8")
    tmp.replace(go_path)
    return start


def _wait_until_ready(specs: list[WorkerSpec], procs: list[Any], timeout: float) -> None:
    """Until every worker has logged `ready` (or ended: it logged why), at most `timeout` seconds."""
    deadline = time.time() + timeout
    pending = set(range(len(specs)))
    while pending and time.time() < deadline:
        for i in list(pending):
            try:
                text = Path(specs[i].log_path).read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            if '"phase": "ready"' in text or not procs[i].is_alive():
                pending.discard(i)
        if pending:
            time.sleep(0.02)


def _child(spec: WorkerSpec) -> None:
    try:
        worker_main(spec)
    finally:
        os._exit(0)  # never run the parent's atexit handlers or close its inherited connections


@dataclass
class RunResult:
    """What the workers did, and what the database says about it."""

    workers: int
    seconds: float
    records: list[dict[str, Any]]
    exit_codes: list[int | None]
    problems: list[str] = field(default_factory=list)
    checked_events: int = 0

    def of(self, phase: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("phase") == phase]

    @property
    def acks(self) -> list[dict[str, Any]]:
        return self.of("ack")

    @property
    def unhandled(self) -> list[dict[str, Any]]:
        return self.of("unhandled")

    def latencies_ms(self) -> np.ndarray:
        return np.array(
            [
                r["latency"] * 1000
                for r in self.records
                if r.get("phase") in ("ack", "read", "error") and "latency" in r
            ]
        )

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms()
        errors = Counter(r["error"] for r in self.of("error"))
        actions = Counter(r["action"] for r in self.records if r.get("phase") in ("ack", "read"))
        return {
            "workers": self.workers,
            "seconds": round(self.seconds, 1),
            "actions": int(lat.size),
            "actions_per_s": round(lat.size / self.seconds, 1) if self.seconds else 0.0,
            "acknowledged_writes": len(self.acks),
            "refused": dict(errors),
            "by_action": dict(actions),
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
            "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
            "max_ms": round(float(lat.max()), 1) if lat.size else None,
            "slowest_join_s": round(max((r["after_s"] for r in self.of("ready")), default=0.0), 1),
            "unhandled": len(self.unhandled),
            "problems": len(self.problems),
            "audit_events_checked": self.checked_events,
            "retried": dict(sum((Counter(r.get("retries", {})) for r in self.of("done")), Counter())),
        }


@dataclass(frozen=True)
class LiveRun:
    """What a `during` callback sees of a run in progress: the workers' logs so far, and a way to end it.

    A test that must act *between* acknowledged writes (a database restart) waits on what the workers
    have logged rather than on the clock, so a slow machine delays the step instead of missing it.
    """

    start_at: float
    log_paths: tuple[str, ...]
    stop_path: str

    def acks_since(self, t: float) -> int:
        """Acknowledged writes logged after time `t` (a partly written last line is not counted yet)."""
        n = 0
        for path in self.log_paths:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            for line in text.splitlines():
                if '"ack"' not in line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("phase") == "ack" and rec.get("t", 0.0) > t:
                    n += 1
        return n

    def wait_for_acks(self, after: float, count: int, timeout: float, poll_s: float = 0.2) -> bool:
        """Block until the workers logged `count` acknowledged writes after `after`; False on timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.acks_since(after) >= count:
                return True
            time.sleep(poll_s)
        return False

    def stop(self) -> None:
        """Ask every worker to finish its current step and log `done`."""
        Path(self.stop_path).touch()


def run_workers(
    url: str,
    codes: list[str],
    *,
    seconds: float,
    log_dir: str | Path,
    seed: int = 0,
    think_s: tuple[float, float] = (1.0, 4.0),
    kill: dict[int, int] | None = None,
    during: Any = None,
    ready_timeout_s: float = 300.0,
    server_url: str | None = None,
) -> RunResult:
    """Fork one process per code, run them for `seconds`, call `during(LiveRun)` meanwhile, collect the logs.

    The `seconds` start once every worker has joined and warmed up (at most `ready_timeout_s`: a worker
    still joining then starts late), so a slow start-up shortens nobody's run. `seconds` is the longest the
    workers run: `during` may end the run earlier with `LiveRun.stop()`.
    `kill` maps worker index -> the write inside which that worker SIGKILLs itself (direct mode only);
    `server_url` makes every worker act through that workshop server.
    """
    if kill and server_url:
        raise ValueError("kill inside a write needs direct database workers (no server_url)")
    ctx = mp.get_context("fork")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    stop_path, go_path = log_dir / "stop", log_dir / "go"
    stop_path.unlink(missing_ok=True)
    go_path.unlink(missing_ok=True)
    forked_at = time.time()
    specs = [
        WorkerSpec(
            url,
            code,
            seed * 100_000 + i,
            str(log_dir / f"worker-{i:03d}.jsonl"),
            str(go_path),
            seconds,
            forked_at,
            ready_timeout_s,
            think_s,
            (kill or {}).get(i),
            server_url,
            str(stop_path),
        )
        for i, code in enumerate(codes)
    ]
    procs = [ctx.Process(target=_child, args=(spec,), daemon=False) for spec in specs]
    # The children inherit the parent's heap (a whole test session's, say): frozen, their garbage collector
    # leaves it alone instead of touching, and so copying, every inherited object's page in each child.
    gc.freeze()
    try:
        for p in procs:
            p.start()
    finally:
        gc.unfreeze()
    _wait_until_ready(specs, procs, ready_timeout_s)
    start_at = _announce_start(go_path)
    if during is not None:
        try:
            during(LiveRun(start_at, tuple(spec.log_path for spec in specs), str(stop_path)))
        except BaseException:
            stop_path.touch()  # end the workers before the failure propagates: no orphans left running
            for p in procs:
                p.join(timeout=max(1.0, start_at + seconds + 120 - time.time()))
                if p.is_alive():
                    p.kill()
            raise
    deadline = start_at + seconds + 120
    for p in procs:
        p.join(timeout=max(1.0, deadline - time.time()))
    for p in procs:
        if p.is_alive():  # only our own children, by pid
            p.kill()
            p.join(5)
    records: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        path = Path(spec.log_path)
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    rec["worker"] = i
                    records.append(rec)
    ran = min(seconds, stop_path.stat().st_mtime - start_at) if stop_path.exists() else seconds
    return RunResult(len(codes), ran, records, [p.exitcode for p in procs])


def verify_run(engine: sa.Engine, result: RunResult, account_ids: set[int] | None = None) -> RunResult:
    """Check the database against the workers' logs; problems are appended to `result.problems`."""
    problems = result.problems
    with db.session_scope(engine) as s:
        check = audit.verify_chain(s)
        result.checked_events = check.checked
        if not check.ok:
            problems.append(str(check))
        receipts = {r.key: r for r in s.exec(select(ActionReceipt)).all()}
        events = s.exec(
            select(
                AuditEvent.actor_id, AuditEvent.action, AuditEvent.subject_type, AuditEvent.subject_id
            ).where(AuditEvent.outcome == "ok")
        ).all()
        drafts = s.exec(
            select(func_count()).select_from(AccessRequest).where(AccessRequest.status == "draft")
        ).one()
        request_ids = set(s.exec(select(AccessRequest.id)).all())
    ev_count = Counter(events)
    if drafts:
        problems.append(f"{drafts} request(s) left in draft: a partial file_request")
    created = {sid for (_, a, st, sid) in events if a == "request.create" and st == "request"}
    submitted = {sid for (_, a, st, sid) in events if a == "request.submit" and st == "request"}
    missing = sorted((request_ids - created) | (request_ids - submitted))
    if missing:
        problems.append(f"requests without their create/submit events: {missing[:10]}")
    acked_keys: set[str] = set()
    for ack in result.acks:
        key = ack["key"]
        acked_keys.add(key)
        rec = receipts.get(key)
        if rec is None:
            problems.append(f"acknowledged {ack['action']} {key} has no receipt (lost)")
            continue
        want = (rec.account_id, PRIMARY_EVENT[rec.action], rec.subject_type, rec.subject_id)
        if ack["action"] != "decide" and ev_count[want] != 1:
            problems.append(f"acknowledged {ack['action']} {key} has {ev_count[want]} audit events {want}")
    # Decisions are several per request (one per stage): count them per receipt instead.
    decide_receipts = Counter(
        (r.account_id, r.subject_type, r.subject_id)
        for r in receipts.values()
        if r.action == "decide" and (account_ids is None or r.account_id in account_ids)
    )
    for (acc, st, sid), n in decide_receipts.items():
        if ev_count[(acc, "review.decide", st, sid)] != n:
            problems.append(
                f"account {acc} request {sid}: {n} decide receipts but "
                f"{ev_count[(acc, 'review.decide', st, sid)]} review.decide events"
            )
    started = {r["key"]: r for r in result.of("start")}
    in_flight = set(started) - acked_keys - {r["key"] for r in result.of("error")}
    per_worker = Counter(started[k]["worker"] for k in in_flight)
    for worker, n in per_worker.items():
        if n > 1:
            problems.append(f"worker {worker} has {n} writes with unknown outcome (at most one expected)")
    mine = [r for r in receipts.values() if account_ids is None or r.account_id in account_ids]
    for r in mine:
        if r.key not in acked_keys and r.key not in in_flight:
            problems.append(f"receipt {r.key} ({r.action}) was never started by a worker (duplicated?)")
    return result


def func_count() -> Any:
    return sa.func.count()
