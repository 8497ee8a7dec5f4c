"""The participant's side of `marketplace workshop serve`: a `ParticipantSession`'s calls, over HTTP.

A notebook or Voila app that joins a workshop by URL holds only this client: the server URL and a session
token, never the database. The client checks nothing itself (roles, states and prices are the server's
workflows' business); it turns each refusal into one `MarketplaceError` line, as in-process sessions do.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.i18n import get_language
from marketplace.vocabulary import Role
from marketplace.workshop.session import Identity, Receipt

TIMEOUT_S = 60.0


class ServerRefused(MarketplaceError):
    """The workshop server refused a call (its one-line message) or could not be reached."""

    def __init__(self, status: int, error: str, message: str) -> None:
        self.status, self.error = status, error
        super().__init__(message)


def check_url(url: str) -> str:
    """The server's base URL, strictly: http(s)://host[:port][/prefix], without query or fragment."""
    parts = urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput("server URL", url, "the address the trainer gave, e.g. http://127.0.0.1:8765")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class WorkshopClient:
    """A participant (or trainer) signed in to a workshop server with their join code."""

    def __init__(self, url: str, code: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.url = check_url(url)
        self._http = httpx.Client(base_url=self.url, timeout=TIMEOUT_S, transport=transport)
        self._token = ""
        joined = self._call("POST", "/api/join", {"code": code})
        self._token = joined["token"]
        self.expires_at: str = joined["expires_at"]

    # ---------------------------------------------------------- plumbing

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        # refusals come back in the language this notebook shows at the time of the call
        headers = {"Accept-Language": get_language()}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        # A kept-alive connection the server closed while idle (its keep-alive timeout) fails the next request
        # with no response at all. A read, or a write under its idempotency key (the server replays a key it
        # has seen, never doing the action twice), is then sent once more on a new connection.
        again = method == "GET" or (body is not None and "key" in body)
        for attempt in (1, 2):
            try:
                resp = self._http.request(method, path, json=body, params=params or None, headers=headers)
                break
            except httpx.RemoteProtocolError as exc:
                if attempt == 2 or not again:
                    raise ServerRefused(0, "Unreachable", f"workshop server {self.url}: {exc}") from None
            except httpx.HTTPError as exc:
                raise ServerRefused(0, "Unreachable", f"workshop server {self.url}: {exc}") from None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 400:
            error = data.get("error", "Error") if isinstance(data, dict) else "Error"
            message = data.get("message") if isinstance(data, dict) else None
            raise ServerRefused(resp.status_code, error, message or f"HTTP {resp.status_code}")
        return data

    def close(self) -> None:
        """Leave: the server revokes this session's token."""
        if self._token:
            with contextlib.suppress(ServerRefused):
                self._call("POST", "/api/leave")
            self._token = ""
        self._http.close()

    def __enter__(self) -> WorkshopClient:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<WorkshopClient {self.url}>"

    @staticmethod
    def _receipt(data: dict[str, Any]) -> Receipt:
        return Receipt(
            data["key"],
            data["action"],
            data["subject_type"],
            data["subject_id"],
            dict(data.get("result") or {}),
            bool(data.get("replayed")),
        )

    def _write(self, path: str, body: dict[str, Any], key: str | None) -> Receipt:
        return self._receipt(self._call("POST", path, {**body, "key": key or uuid.uuid4().hex}))

    # ---------------------------------------------------------- the participant's calls

    def whoami(self) -> Identity:
        d = self._call("GET", "/api/me")
        return Identity(**{**d, "roles": frozenset(Role(r) for r in d["roles"])})

    @property
    def account_id(self) -> int:
        return self.whoami().account_id

    @property
    def roles(self) -> frozenset[Role]:
        return self.whoami().roles

    def allowed_actions(self) -> list[str]:
        return self._call("GET", "/api/allowed")

    def catalog(self, *, limit: int = 200) -> list[dict[str, Any]]:
        return self._call("GET", "/api/catalog", limit=limit)

    def file_request(
        self,
        *,
        purpose: str,
        resource: str | int | None = None,
        product: str | int | None = None,
        channel: str | None = None,
        use_statement: str = "",
        fields: Iterable[str] = (),
        volume: int = 1,
        duration_days: int = 365,
        project_reference: str = "",
        sponsor: str | int | None = None,
        list_entry: str | int | None = None,
        key: str | None = None,
    ) -> Receipt:
        body = {
            "list_entry": list_entry,
            "purpose": purpose,
            "resource": resource,
            "product": product,
            "channel": channel,
            "use_statement": use_statement,
            "fields": list(fields),
            "volume": volume,
            "duration_days": duration_days,
            "project_reference": project_reference,
            "sponsor": sponsor,
        }
        return self._write("/api/requests", body, key)

    def my_requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/requests")

    def accept_quote(self, request: str | int, *, key: str | None = None) -> Receipt:
        return self._write(f"/api/requests/{_ref(request)}/accept", {}, key)

    def withdraw(self, request: str | int, *, reason: str = "", key: str | None = None) -> Receipt:
        return self._write(f"/api/requests/{_ref(request)}/withdraw", {"reason": reason}, key)

    def report_usage(self, request: str | int, summary: str, *, key: str | None = None) -> Receipt:
        return self._write(f"/api/requests/{_ref(request)}/usage", {"summary": summary}, key)

    def review_queue(self, *, limit: int = 100, after: int | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/api/reviews", limit=limit, **({} if after is None else {"after": after}))

    def decide(
        self,
        review: int,
        decision: str,
        *,
        conditions: Iterable[Any] = (),
        reason: str = "",
        key: str | None = None,
    ) -> Receipt:
        body = {"decision": decision, "conditions": list(conditions), "reason": reason}
        return self._write(f"/api/reviews/{_ref(review)}/decide", body, key)

    def deliver(self, request: str | int, *, rows: int | None = None, key: str | None = None) -> Receipt:
        return self._write(f"/api/requests/{_ref(request)}/deliver", {"rows": rows}, key)

    def my_products(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/products")

    def set_price(self, product: str | int, price: Any, *, key: str | None = None) -> Receipt:
        return self._write(f"/api/products/{_ref(product)}/price", {"price": str(price)}, key)

    def list_product(self, product: str | int, *, key: str | None = None) -> Receipt:
        return self._write(f"/api/products/{_ref(product)}/list", {}, key)

    def exercises(self, lang: str = "en") -> list[dict[str, Any]]:
        return self._call("GET", "/api/exercises", lang=lang)

    def citable_entries(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/sharing-lists/citable")

    def selection_rounds(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/selections")

    def apply_for_selection(
        self,
        selection: str | int,
        *,
        security_level: int,
        registered_capital: Any,
        statement: str = "",
        key: str | None = None,
    ) -> Receipt:
        capital = registered_capital
        if not isinstance(capital, int | float):
            capital = str(capital)  # a Decimal travels as its text
        body = {"security_level": security_level, "registered_capital": capital, "statement": statement}
        return self._write(f"/api/selections/{_ref(selection)}/apply", body, key)

    def score_application(
        self, application: int, scores: dict[str, Any], *, key: str | None = None
    ) -> Receipt:
        path = f"/api/selections/applications/{_ref(application)}/score"
        return self._write(path, {"scores": scores}, key)

    def decide_selection(self, selection: str | int, *, note: str = "", key: str | None = None) -> Receipt:
        return self._write(f"/api/selections/{_ref(selection)}/decide", {"note": note}, key)

    # ---------------------------------------------------------- trainer operations (refused for others)

    def dashboard(self) -> dict[str, Any]:
        return self._call("GET", "/api/trainer/dashboard")

    def pause_clock(self) -> dict[str, Any]:
        return self._call("POST", "/api/trainer/clock", {"action": "pause"})

    def resume_clock(self) -> dict[str, Any]:
        return self._call("POST", "/api/trainer/clock", {"action": "resume"})

    def advance_clock(self, days: int) -> dict[str, Any]:
        return self._call("POST", "/api/trainer/clock", {"action": "advance", "days": days})

    def checkpoint(self, name: str) -> dict[str, Any]:
        return self._call("POST", "/api/trainer/checkpoint", {"name": name})

    def release(self, exercise: str | None = None) -> str | None:
        return self._call("POST", "/api/trainer/release", {"exercise": exercise})["released"]

    def lockouts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/trainer/lockouts")

    def unlock(self, *, client: str | None = None, seat: int | None = None, everyone: bool = False) -> int:
        body = {"client": client, "seat": seat, "everyone": everyone}
        return self._call("POST", "/api/trainer/unlock", body)["unlocked"]

    def revoke(self, *, seat: int | None = None, everyone: bool = False) -> int:
        return self._call("POST", "/api/trainer/revoke", {"seat": seat, "everyone": everyone})["revoked"]


def _ref(value: str | int) -> str:
    return quote(str(value), safe="")


def connect(url: str, code: str) -> WorkshopClient:
    """Join the workshop served at `url` with join `code` (what the participant notebook calls)."""
    return WorkshopClient(url, code)
