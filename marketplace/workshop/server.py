"""`marketplace workshop serve`: the workshop's only door to the database, an HTTP API (FastAPI on uvicorn).

Why a server: a participant whose notebook holds the database URL can read digests, write role rows or move
the clock as anyone. Here only this process holds the URL. A participant exchanges their join code for a
session token (`POST /api/join`: the code is checked against its salted, slow argon2id digest), then every
action is an authenticated request whose role check runs here, in the workflows, exactly as for an in-process
session (`marketplace.workshop.session`, `facilitator`): the server adds transport, tokens and throttling, no
rules.

Tokens are 256 random bits, stored as SHA-256 digests, expire after `ServerSettings.token_ttl` and are revoked
by the trainer (`POST /api/trainer/revoke`, `marketplace workshop revoke`). Failed joins are throttled per
client address and per code (exponential back-off, lockout after `lockout_after` misses until the trainer
unlocks); refused joins and bad tokens are counted in one audit event per client and window, not one per
guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace.errors import (
    ConflictError,
    DatabaseUnavailable,
    InvalidInput,
    MarketplaceError,
    NotFound,
    PermissionDenied,
    PolicyRefusal,
    TransitionError,
)
from marketplace.i18n import error_text, normalize
from marketplace.models import Account, Participant, SessionToken
from marketplace.vocabulary import Role
from marketplace.workflows import audit
from marketplace.workshop import roster
from marketplace.workshop.facilitator import Facilitator
from marketplace.workshop.session import ParticipantSession, Receipt, gated, resume, run_retrying

log = logging.getLogger(__name__)

API = "/api"
TOKEN_BYTES = 32
MAX_CODE_CHARS = 64
MAX_TEXT = 4000


@dataclass(frozen=True)
class ServerSettings:
    """What a trainer may tune; every default is an assumption (no policy text speaks to workshop servers)."""

    # Assumption: a workshop day; a participant who comes back the next day joins again with their code.
    token_ttl: timedelta = timedelta(hours=8)
    # Assumption: three typos are free; then waits of 1, 2, 4 ... s (at most 60 s) between attempts.
    free_misses: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    # Assumption: ten misses in a row lock the client (or the code) out until the trainer unlocks it; an
    # 80-bit code cannot be guessed in ten tries, a mistyped one is re-read long before.
    lockout_after: int = 10
    # Assumption: one audit event per client and minute of refused joins / bad tokens keeps a guessing client
    # from flooding the log while the trainer still sees it within a minute.
    miss_window_s: float = 60.0
    cors_origins: tuple[str, ...] = ()  # Voila served from another origin: its URL here (default: none)
    # Assumption: a request spends most of its time waiting for the database, so more threads than cores
    # keep 50 participants from queueing behind a few slow writes; 16 stays within the engine's default
    # connection pool (5 + 10 overflow) plus one, so a thread rarely waits for a connection.
    threads: int = 16

    def __post_init__(self) -> None:
        if not 1 <= self.threads <= 256:
            raise InvalidInput("threads", self.threads, "a whole number of worker threads from 1 to 256")


# ------------------------------------------------------------------ throttling


@dataclass
class _Record:
    misses: int = 0
    last_miss: float = -math.inf
    locked: bool = False


@dataclass
class _Window:
    start: float
    counts: dict[str, int] = field(default_factory=dict)
    locked: bool = False


class JoinThrottle:
    """Failed joins per client address and per code: back-off, lockout, and the windowed miss counts.

    In memory (one server process): a restart forgets back-off and lockouts but never the audited counts,
    which are written when their window closes (`due_events`) or when the server stops
    (`due_events(everything=True)`).
    """

    def __init__(self, settings: ServerSettings, now: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.now = now
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], _Record] = {}
        self._windows: dict[str, _Window] = {}

    def wait(self, keys: list[tuple[str, str]]) -> float:
        """Seconds before `keys` may try again: 0 now, `math.inf` while locked out."""
        st = self.settings
        out = 0.0
        with self._lock:
            for key in keys:
                rec = self._records.get(key)
                if rec is None:
                    continue
                if rec.locked:
                    return math.inf
                over = rec.misses - st.free_misses
                if over >= 0:
                    delay = min(st.backoff_base_s * 2**over, st.backoff_max_s)
                    out = max(out, rec.last_miss + delay - self.now())
        return max(out, 0.0)

    def miss(self, keys: list[tuple[str, str]], client: str, reason: str) -> bool:
        """Count a miss against every key (and in `client`'s audit window); True when it locked a key out."""
        locked = False
        with self._lock:
            now = self.now()
            for key in keys:
                rec = self._records.setdefault(key, _Record())
                rec.misses += 1
                rec.last_miss = now
                if rec.misses >= self.settings.lockout_after and not rec.locked:
                    rec.locked = locked = True
            self._count(client, reason, now, locked=locked)
        return locked

    def refused(self, client: str, reason: str) -> None:
        """Count a refusal that is no guess (a bad, expired or revoked token; a locked-out attempt)."""
        with self._lock:
            self._count(client, reason, self.now())

    def _count(self, client: str, reason: str, now: float, *, locked: bool = False) -> None:
        win = self._windows.get(client)
        if win is None:
            win = self._windows[client] = _Window(now)
        win.counts[reason] = win.counts.get(reason, 0) + 1
        win.locked = win.locked or locked

    def succeeded(self, keys: list[tuple[str, str]]) -> None:
        with self._lock:
            for key in keys:
                rec = self._records.get(key)
                if rec is not None and not rec.locked:
                    del self._records[key]

    def unlock(
        self, *, client: str | None = None, code_digest: str | None = None, everyone: bool = False
    ) -> int:
        """Lift lockouts and back-off (of one client address, one code, or all); returns how many."""
        with self._lock:
            keys = [
                k
                for k in self._records
                if everyone
                or (k[0] == "client" and k[1] == client)
                or (k[0] == "code" and k[1] == code_digest)
            ]
            for k in keys:
                del self._records[k]
            return len(keys)

    def lockouts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"kind": kind, "key": key if kind == "client" else key[:12], "misses": r.misses}
                for (kind, key), r in self._records.items()
                if r.locked
            ]

    def due_events(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """The windows that closed (all with `everything`), each as one audit payload; forgets them."""
        with self._lock:
            now = self.now()
            out = []
            for client, win in list(self._windows.items()):
                if everything or win.locked or now - win.start >= self.settings.miss_window_s:
                    out.append(
                        {
                            "client": client,
                            "window_s": round(max(now - win.start, 0.0), 1),
                            "refused": dict(sorted(win.counts.items())),
                            "total": sum(win.counts.values()),
                            "locked_out": win.locked,
                        }
                    )
                    del self._windows[client]
            return out


# ------------------------------------------------------------------ requests and answers


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JoinBody(_Body):
    code: str = Field(max_length=MAX_CODE_CHARS)


class KeyBody(_Body):
    key: str | None = Field(default=None, max_length=64)


class FileRequestBody(KeyBody):
    purpose: str = Field(max_length=64)
    resource: str | int | None = None
    product: str | int | None = None
    channel: str | None = Field(default=None, max_length=64)
    use_statement: str = Field(default="", max_length=MAX_TEXT)
    fields: list[str] = Field(default_factory=list, max_length=200)
    volume: int = 1
    duration_days: int = 365
    project_reference: str = Field(default="", max_length=200)
    sponsor: str | int | None = None
    list_entry: str | int | None = None


class ApplyBody(KeyBody):
    security_level: int
    registered_capital: str | int | float = Field(union_mode="left_to_right")
    statement: str = Field(default="", max_length=MAX_TEXT)


class ScoreBody(KeyBody):
    scores: dict[str, Any] = Field(max_length=20)


class SelectionDecideBody(KeyBody):
    note: str = Field(default="", max_length=MAX_TEXT)


class WithdrawBody(KeyBody):
    reason: str = Field(default="", max_length=MAX_TEXT)


class UsageBody(KeyBody):
    summary: str = Field(max_length=MAX_TEXT)


class DeliverBody(KeyBody):
    rows: int | None = None


class DecideBody(KeyBody):
    decision: str = Field(max_length=32)
    conditions: list[Any] = Field(default_factory=list, max_length=50)
    reason: str = Field(default="", max_length=MAX_TEXT)


class PriceBody(KeyBody):
    price: str | int | float


class ClockBody(_Body):
    action: str = Field(max_length=16, description="pause, resume or advance")
    days: int | None = None


class NameBody(_Body):
    name: str = Field(max_length=100)


class ReleaseBody(_Body):
    exercise: str | None = Field(default=None, max_length=64)


class UnlockBody(_Body):
    client: str | None = Field(default=None, max_length=64)
    seat: int | None = None
    everyone: bool = False


class RevokeBody(_Body):
    seat: int | None = None
    everyone: bool = False


def _receipt(r: Receipt) -> dict[str, Any]:
    return asdict(r)


STATUS = (
    (PermissionDenied, 403),
    (PolicyRefusal, 403),
    (NotFound, 404),
    (ConflictError, 409),
    (TransitionError, 409),
    (DatabaseUnavailable, 503),
    (InvalidInput, 422),
)


def status_of(exc: MarketplaceError) -> int:
    return next((code for typ, code in STATUS if isinstance(exc, typ)), 400)


class Unauthorized(MarketplaceError):
    """No valid session token: the client must join (again) with its code."""


class Throttled(MarketplaceError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ the server


class WorkshopServer:
    """The app and its state: the engine (only here), the settings, the join throttle."""

    def __init__(
        self,
        engine: Engine,
        settings: ServerSettings | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.settings = settings or ServerSettings()
        self.throttle = JoinThrottle(self.settings, now)
        self.app = self._build()

    # ---------------------------------------------------------- audit of refusals

    def flush_refusals(self, *, everything: bool = False) -> int:
        """Write one audit event per closed window of refused joins / bad tokens; returns how many."""
        events = self.throttle.due_events(everything=everything)
        if not events:
            return 0

        def write(s: Session) -> None:
            for payload in events:
                err = PermissionDenied(
                    payload["client"], "use the workshop server", f"{payload['total']} refused attempts"
                )
                audit.refuse(s, None, "workshop.join", ("workshop", None), err, payload)

        run_retrying(self.engine, write)
        return len(events)

    # ---------------------------------------------------------- joining and tokens

    def join(self, code: str, client: str) -> dict[str, Any]:
        keys = [("client", client)]
        normalized = roster.normalize_code(code) if isinstance(code, str) else ""
        digest = roster.code_hash(code) if normalized else ""
        if digest:
            keys.append(("code", digest))
        wait = self.throttle.wait(keys)
        if wait > 0 and self.throttle.wait(keys[1:]) == 0 and self._trainer_seat(digest):
            # Everyone on one machine (or behind one proxy) shares an address: a guesser there must not lock
            # the trainer out of unlocking it. Only a trainer seat's code passes, and it is still checked
            # against its slow digest below; any other code gets the same answer as before.
            wait = 0.0
        if wait == math.inf:
            self.throttle.refused(client, "locked_out")
            raise Throttled("join: too many wrong codes from here; ask the trainer to unlock", 3600).worded(
                "workshop.refused.locked_out"
            )
        if wait > 0:
            self.throttle.refused(client, "too_soon")
            raise Throttled(f"join: too many wrong codes; try again in {math.ceil(wait)} s", wait).worded(
                "workshop.refused.too_soon", seconds=math.ceil(wait)
            )
        if not normalized or len(normalized) != roster.CODE_GROUPS * roster.CODE_GROUP_LEN:
            self.throttle.miss(keys, client, "malformed_code")
            raise InvalidInput(
                "code", code, "the code on your roster card, e.g. K7QM-3XTA-9PRD-W2HF", "expected.roster_code"
            )

        def find(s: Session) -> Participant | None:
            p = s.exec(select(Participant).where(Participant.join_code_hash == digest)).first()
            if p is None:
                return None
            if p.join_code_kdf:
                if not roster.code_kdf_matches(p.join_code_kdf, code):
                    return None
            else:  # a seat made before slow digests: give it one now
                p.join_code_kdf = roster.code_kdf(code)
                s.add(p)
            return p

        issued = datetime.now(UTC)
        token = secrets.token_urlsafe(TOKEN_BYTES)

        def issue(s: Session) -> dict[str, Any] | None:
            p = find(s)
            if p is None:
                return None
            row = SessionToken(
                token_hash=token_digest(token),
                account_id=p.account_id,
                code_hash=digest,
                client=client[:64],
                issued_at=issued,
                expires_at=issued + self.settings.token_ttl,
            )
            s.add(row)
            roster.touch(s, p.id, issued)
            audit.record(s, p.account_id, "workshop.join", ("account", p.account_id), {"client": client[:64]})
            return {"token": token, "expires_at": row.expires_at.isoformat(), "account_id": p.account_id}

        out = run_retrying(self.engine, issue)
        if out is None:
            if self.throttle.miss(keys, client, "unknown_code"):
                self.flush_refusals()  # a lockout is written at once
            raise Unauthorized("join: unknown join code (check the code on your roster card)").worded(
                "workshop.refused.unknown_code"
            )
        self.throttle.succeeded(keys)
        return out

    def _trainer_seat(self, digest: str) -> bool:
        if not digest:
            return False

        def find(s: Session) -> bool:
            p = s.exec(select(Participant).where(Participant.join_code_hash == digest)).first()
            return p is not None and Role.trainer in roster.role_names(s, p.account_id)

        return run_retrying(self.engine, find)

    def authenticate(self, request: Request) -> tuple[ParticipantSession, SessionToken]:
        client = _client(request)
        token = bearer_token(request)
        if token is None:
            self.throttle.refused(client, "no_token")
            raise Unauthorized("no session token: join with your code first (POST /api/join)").worded(
                "workshop.refused.no_token"
            )
        digest = token_digest(token)

        def load(s: Session) -> SessionToken | None:
            return s.exec(select(SessionToken).where(SessionToken.token_hash == digest)).first()

        row = run_retrying(self.engine, load)
        self.check_token(row, client)
        assert row is not None
        return resume(self.engine, row.code_hash), row

    def check_token(self, row: SessionToken | None, client: str) -> None:
        """Refuse (and count for the client) an unknown, revoked or expired session token."""
        if row is None:
            self.throttle.refused(client, "bad_token")
            raise Unauthorized("unknown session token: join again with your code").worded(
                "workshop.refused.unknown_token"
            )
        if row.revoked_at is not None:
            self.throttle.refused(client, "revoked_token")
            raise Unauthorized("session revoked by the trainer: join again with your code").worded(
                "workshop.refused.revoked"
            )
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            self.throttle.refused(client, "expired_token")
            raise Unauthorized("session expired: join again with your code").worded(
                "workshop.refused.expired"
            )

    def open_connections(self) -> None:
        """Open the connections the worker threads will hold before the first participant acts: a room presses
        its first button within the same second, and a PostgreSQL connection opened then is a new backend
        process competing with those actions. Up to the pool's kept size (`db.make_engine(pool_size=…)`)."""
        if not isinstance(self.engine.pool, sa.pool.QueuePool):
            return  # one shared connection (in-memory SQLite) or none kept
        with contextlib.ExitStack() as opened:
            for _ in range(min(self.settings.threads, self.engine.pool.size())):
                opened.enter_context(self.engine.connect())

    def participant(self, request: Request) -> ParticipantSession:
        """The caller's session for one participant action: its token is checked by the first statement of the
        action's own transaction (one query finds the token and the seat it was issued for), so the check
        comes before anything the action reads or writes and costs no transaction of its own."""
        client = _client(request)
        token = bearer_token(request)
        if token is None:
            self.throttle.refused(client, "no_token")
            raise Unauthorized("no session token: join with your code first (POST /api/join)").worded(
                "workshop.refused.no_token"
            )
        find = (
            select(SessionToken, Participant, Account)
            .outerjoin(Participant, Participant.join_code_hash == SessionToken.code_hash)
            .outerjoin(Account, Account.id == Participant.account_id)  # type: ignore[arg-type]
            .where(SessionToken.token_hash == token_digest(token))
        )

        def gate(s: Session) -> tuple[Participant, Account] | None:
            found = s.exec(find).first()
            self.check_token(None if found is None else found[0], client)
            return None if found[1] is None or found[2] is None else (found[1], found[2])

        return gated(self.engine, gate)

    def leave(self, row: SessionToken) -> None:
        """End the caller's own session (the client's `close`)."""

        def go(s: Session) -> None:
            q = sa.update(SessionToken).where(SessionToken.id == row.id)
            s.connection().execute(q.values(revoked_at=datetime.now(UTC), revoked_by_id=row.account_id))

        run_retrying(self.engine, go)

    # ---------------------------------------------------------- the app

    def _build(self) -> FastAPI:
        server = self

        pool: dict[str, ThreadPoolExecutor] = {}

        async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            """`fn` on the server's worker threads (the event loop never waits for the database)."""
            loop = asyncio.get_running_loop()
            executor = pool.get("workers")  # None outside the lifespan (app driven without it): the default
            return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            async def flusher() -> None:
                while True:
                    await asyncio.sleep(min(server.settings.miss_window_s, 60.0))
                    await run(server.flush_refusals)

            pool["workers"] = ThreadPoolExecutor(server.settings.threads, thread_name_prefix="workshop")
            await run(server.open_connections)
            task = asyncio.create_task(flusher())
            try:
                yield
            finally:
                task.cancel()
                await run(server.flush_refusals, everything=True)
                pool.pop("workers").shutdown(wait=True)

        app = FastAPI(
            title="Public Data Marketplace workshop",
            lifespan=lifespan,
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
        app.state.workshop = self
        if self.settings.cors_origins:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=list(self.settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )

        @app.exception_handler(MarketplaceError)
        async def refused(request: Request, exc: MarketplaceError) -> JSONResponse:
            headers = {}
            if isinstance(exc, Unauthorized):
                code = 401
                headers["WWW-Authenticate"] = "Bearer"
            elif isinstance(exc, Throttled):
                code = 429
                headers["Retry-After"] = str(math.ceil(exc.retry_after))
            else:
                code = status_of(exc)
            return JSONResponse(  # worded in the caller's language, as an in-process panel words it
                {"error": type(exc).__name__, "message": _one_line(error_text(exc, _language(request)))},
                status_code=code,
                headers=headers,
            )

        @app.exception_handler(RequestValidationError)
        async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
            got = _one_line(repr(first.get("input")))[:80]
            msg = f"{where}: got {got}; expected {first.get('msg', 'valid input')}"
            return JSONResponse({"error": "InvalidInput", "message": _one_line(msg)}, status_code=422)

        @app.exception_handler(Exception)
        async def crashed(_request: Request, exc: Exception) -> JSONResponse:
            log.exception("workshop server: unhandled error")
            return JSONResponse(
                {"error": "ServerError", "message": f"the server could not do this ({type(exc).__name__})"},
                status_code=500,
            )

        async def participant(request: Request) -> Caller:
            if bearer_token(request) is None:  # no database needed to refuse a request without a token
                server.throttle.refused(_client(request), "no_token")
                no_token = "no session token: join with your code first (POST /api/join)"
                raise Unauthorized(no_token).worded("workshop.refused.no_token")
            return Caller(server, request)

        def trainer(request: Request) -> tuple[Facilitator, SessionToken]:
            session, row = server.authenticate(request)
            return Facilitator(session), row

        me = Depends(participant)
        boss = Depends(trainer)

        @app.get(f"{API}/health")
        async def health() -> dict[str, Any]:
            return {"ok": True}

        @app.post(f"{API}/join")
        async def join(body: JoinBody, request: Request) -> dict[str, Any]:
            return await run(server.join, body.code, _client(request))

        @app.post(f"{API}/leave")
        async def leave(request: Request) -> dict[str, Any]:
            await run(lambda: server.leave(server.authenticate(request)[1]))
            return {"left": True}

        @app.get(f"{API}/me")
        async def whoami(p: Caller = me) -> dict[str, Any]:
            ident = await run(p.whoami)
            return {**asdict(ident), "roles": sorted(r.value for r in ident.roles)}

        @app.get(f"{API}/allowed")
        async def allowed(p: Caller = me) -> list[str]:
            return await run(p.allowed_actions)

        @app.get(f"{API}/catalog")
        async def catalog(limit: int = 200, p: Caller = me) -> list[dict[str, Any]]:
            if not 1 <= limit <= 1000:
                raise InvalidInput("limit", limit, "a whole number from 1 to 1000")
            return await run(p.catalog, limit=limit)

        @app.get(f"{API}/requests")
        async def my_requests(p: Caller = me) -> list[dict[str, Any]]:
            return await run(p.my_requests)

        @app.post(f"{API}/requests")
        async def file_request(body: FileRequestBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.file_request, **body.model_dump()))

        @app.post(f"{API}/requests/{{ref}}/accept")
        async def accept_quote(ref: str, body: KeyBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.accept_quote, ref, key=body.key))

        @app.post(f"{API}/requests/{{ref}}/withdraw")
        async def withdraw(ref: str, body: WithdrawBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.withdraw, ref, reason=body.reason, key=body.key))

        @app.post(f"{API}/requests/{{ref}}/usage")
        async def report_usage(ref: str, body: UsageBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.report_usage, ref, body.summary, key=body.key))

        @app.post(f"{API}/requests/{{ref}}/deliver")
        async def deliver(ref: str, body: DeliverBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.deliver, ref, rows=body.rows, key=body.key))

        @app.get(f"{API}/reviews")
        async def review_queue(limit: int = 100, after: int | None = None,
                               p: Caller = me) -> list[dict[str, Any]]:
            return await run(p.review_queue, limit=limit, after=after)

        @app.post(f"{API}/reviews/{{review}}/decide")
        async def decide(review: int, body: DecideBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(
                await run(
                    p.decide,
                    review,
                    body.decision,
                    conditions=body.conditions,
                    reason=body.reason,
                    key=body.key,
                )
            )

        @app.get(f"{API}/products")
        async def my_products(p: Caller = me) -> list[dict[str, Any]]:
            return await run(p.my_products)

        @app.post(f"{API}/products/{{ref}}/price")
        async def set_price(ref: str, body: PriceBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.set_price, ref, body.price, key=body.key))

        @app.post(f"{API}/products/{{ref}}/list")
        async def list_product(ref: str, body: KeyBody, p: Caller = me) -> dict[str, Any]:
            return _receipt(await run(p.list_product, ref, key=body.key))

        @app.get(f"{API}/sharing-lists/citable")
        async def citable_entries(p: Caller = me) -> list[dict[str, Any]]:
            return await run(p.citable_entries)

        @app.get(f"{API}/selections")
        async def selection_rounds(p: Caller = me) -> list[dict[str, Any]]:
            return await run(p.selection_rounds)

        @app.post(f"{API}/selections/{{ref}}/apply")
        async def apply_for_selection(
            ref: str, body: ApplyBody, p: Caller = me
        ) -> dict[str, Any]:
            return _receipt(
                await run(
                    p.apply_for_selection,
                    ref,
                    security_level=body.security_level,
                    registered_capital=body.registered_capital,
                    statement=body.statement,
                    key=body.key,
                )
            )

        @app.post(f"{API}/selections/applications/{{application}}/score")
        async def score_application(
            application: int, body: ScoreBody, p: Caller = me
        ) -> dict[str, Any]:
            return _receipt(await run(p.score_application, application, body.scores, key=body.key))

        @app.post(f"{API}/selections/{{ref}}/decide")
        async def decide_selection(
            ref: str, body: SelectionDecideBody, p: Caller = me
        ) -> dict[str, Any]:
            return _receipt(await run(p.decide_selection, ref, note=body.note, key=body.key))

        @app.get(f"{API}/exercises")
        async def exercises(lang: str = "en", p: Caller = me) -> list[dict[str, Any]]:
            if lang not in ("en", "zh"):
                raise InvalidInput("lang", lang, "en or zh")
            return await run(p.exercises, lang)

        # ------------------------------------------------------ trainer operations (role checked in _op)

        @app.get(f"{API}/trainer/dashboard")
        async def dashboard(t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            d = await run(t[0].dashboard)
            return {
                "today": d.today.isoformat(),
                "clock_paused": d.clock_paused,
                "policy": d.policy,
                "figures": {k: str(v) for k, v in d.figures.items()},
            }

        @app.post(f"{API}/trainer/clock")
        async def clock(body: ClockBody, t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            fac = t[0]
            if body.action == "pause":
                state = await run(fac.pause_clock)
            elif body.action == "resume":
                state = await run(fac.resume_clock)
            elif body.action == "advance":
                report = await run(fac.advance_clock, body.days)
                return {"previous": report.previous.isoformat(), "today": report.today.isoformat()}
            else:
                raise InvalidInput("action", body.action, "pause, resume or advance")
            return {"today": state.today().isoformat(), "paused": state.paused}

        @app.post(f"{API}/trainer/checkpoint")
        async def checkpoint(body: NameBody, t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            return {"counts": await run(t[0].checkpoint, body.name)}

        @app.post(f"{API}/trainer/release")
        async def release(body: ReleaseBody, t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            fac = t[0]
            ex = await run(fac.release, body.exercise) if body.exercise else await run(fac.release_next)
            return {"released": None if ex is None else ex.id}

        @app.get(f"{API}/trainer/lockouts")
        async def lockouts(t: tuple[Facilitator, SessionToken] = boss) -> list[dict[str, Any]]:
            await run(_trainer_check, t[0], "see join lockouts")
            return server.throttle.lockouts()

        @app.post(f"{API}/trainer/unlock")
        async def unlock(body: UnlockBody, t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            actor = await run(_trainer_check, t[0], "unlock joins")
            digest = None
            if body.seat is not None:
                digest = await run(_seat_digest, server.engine, body.seat)
            n = server.throttle.unlock(client=body.client, code_digest=digest, everyone=body.everyone)
            await run(_record, server.engine, actor, "workshop.unlock", body.model_dump() | {"lifted": n})
            return {"unlocked": n}

        @app.post(f"{API}/trainer/revoke")
        async def revoke(body: RevokeBody, t: tuple[Facilitator, SessionToken] = boss) -> dict[str, Any]:
            if (body.seat is None) == (not body.everyone):
                raise InvalidInput("seat", body.seat, "a seat number, or everyone=true (not both)")
            # The trainer's own session survives "everyone" (they revoke, then keep running the workshop).
            n = await run(revoke_sessions, t[0], seat=body.seat, keep_token=t[1].id)
            return {"revoked": n}

        return app


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Caller:
    """A participant request whose token is checked on the worker thread that runs its action.

    `caller.file_request(...)` authenticates (`WorkshopServer.authenticate`: unknown, revoked or expired
    tokens refused) and then calls the session's method, in one hop to the thread pool instead of two and
    in the action's own transaction (`WorkshopServer.participant`): the check still comes before anything the
    action reads or writes.
    """

    __slots__ = ("_request", "_server")

    def __init__(self, server: WorkshopServer, request: Request) -> None:
        self._server = server
        self._request = request

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or not callable(getattr(ParticipantSession, name, None)):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._server.participant(self._request), name)(*args, **kwargs)

        return call


def revoke_sessions(fac: Facilitator, *, seat: int | None = None, keep_token: int | None = None) -> int:
    """Trainer only: revoke the live sessions of `seat` (every seat when None) but `keep_token` (the caller's
    own); returns how many. Role check and audit as for every trainer operation."""
    actor = fac.trainer_account("revoke workshop sessions")
    engine = fac.engine
    account = None if seat is None else _seat_account(engine, seat)
    now = datetime.now(UTC)

    def go(s: Session) -> int:
        q = sa.update(SessionToken).where(SessionToken.revoked_at.is_(None))  # type: ignore[union-attr]
        if keep_token is not None:
            q = q.where(SessionToken.id != keep_token)
        if account is not None:
            q = q.where(SessionToken.account_id == account)
        n = s.connection().execute(q.values(revoked_at=now, revoked_by_id=actor)).rowcount
        audit.record(s, actor, "workshop.revoke", ("workshop", None), {"seat": seat, "sessions": n})
        return n

    return run_retrying(engine, go)


def _language(request: Request) -> str:
    """The language the caller reads (`WorkshopClient` sends its own with every call): the first tag of
    Accept-Language the sandbox speaks, else English (order taken as preference, q-values not weighed)."""
    for part in request.headers.get("accept-language", "")[:200].split(","):
        try:
            return normalize(part.split(";", 1)[0].strip())
        except InvalidInput:
            continue
    return "en"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _trainer_check(fac: Facilitator, doing: str) -> int:
    """The trainer's account id, after the same audited role check every trainer operation makes."""
    return fac.trainer_account(doing)


def _seat_digest(engine: Engine, seat: int) -> str:
    def go(s: Session) -> str:
        p = s.exec(select(Participant).where(Participant.seat == seat)).first()
        if p is None:
            raise NotFound("seat", seat)
        return p.join_code_hash

    return run_retrying(engine, go)


def _seat_account(engine: Engine, seat: int | None) -> int:
    def go(s: Session) -> int:
        p = s.exec(select(Participant).where(Participant.seat == seat)).first()
        if p is None:
            raise NotFound("seat", seat)
        return p.account_id

    return run_retrying(engine, go)


def _record(engine: Engine, actor_id: int, action: str, payload: dict[str, Any]) -> None:
    def go(s: Session) -> None:
        audit.record(s, s.get(Account, actor_id), action, ("workshop", None), payload)

    run_retrying(engine, go)


def create_app(engine: Engine, settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app of a workshop server on `engine` (its `state.workshop` is the `WorkshopServer`)."""
    return WorkshopServer(engine, settings).app


class ServerThread:
    """A workshop server on a loopback port in a background thread (tests, the load run, a notebook demo).

    `port=0` picks a free port; `url` is where it listens once `start()` returns.
    """

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="workshop-server", daemon=True
        )

    def start(self, timeout_s: float = 30.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the workshop server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
