"""Errors a user can see, one family for the whole package.

A leaf module (no imports of ours) so that every layer, `policy` included, raises the same types and the
CLI and widgets can turn any of them into one clear line instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


class MarketplaceError(Exception):
    """Base class: an error that is the user's to fix, shown as one line without a traceback."""

    exit_code = 2
    audited = False  # set once the refusal is queued for the audit log, so it is logged once
    # A whole message as a catalog key and its parameters, for an error that is only a sentence (a workshop
    # server's "session expired"): `i18n.error_text` words it in any language; `str()` stays the English.
    message_key = ""
    message_params: Mapping[str, Any] = MappingProxyType({})

    def worded(self, key: str, **params: Any) -> MarketplaceError:
        """This error with its message as catalog `key` (returns self, to raise in one expression)."""
        self.message_key, self.message_params = key, params
        return self


class InvalidInput(MarketplaceError, ValueError):
    """Bad input: names the field, the value given and what was expected.

    `key`/`params`, when given, word what was expected in any language (a panel's text box: "a text of at
    most 4000 characters"); the English `str()` stays `expected`."""

    def __init__(
        self, field: str, value: Any, expected: str, key: str = "", params: dict[str, Any] | None = None
    ) -> None:
        self.field, self.value, self.expected = field, value, expected
        self.key, self.params = key, dict(params or {})
        super().__init__(f"{field}: got {value!r}; expected {expected}")

    def __reduce__(self) -> Any:
        # rebuilt from its parts when it crosses a process boundary (worker processes, Dask actors)
        return (type(self), (self.field, self.value, self.expected, self.key, self.params))


class TransitionError(MarketplaceError):
    """An action that the object's lifecycle (docs/vocabulary.md#lifecycles) does not allow from its state."""

    def __init__(
        self,
        subject: str,
        state: str,
        action: str,
        allowed: list[str] | None = None,
        *,
        key: str = "",
        params: dict[str, Any] | None = None,
    ) -> None:
        """`key` and `params`, when given, word the refusal as a sentence of its own in any language (a
        grant that is missing or expired); the English `str()` stays the lifecycle's sentence."""
        self.subject, self.state, self.action = subject, state, action
        self.allowed = list(allowed or [])
        self.key, self.params = key, dict(params or {})
        hint = f"; allowed from {state}: {', '.join(allowed)}" if allowed else ""
        super().__init__(f"{subject} is {state}: cannot {action}{hint}")


class PermissionDenied(MarketplaceError):
    """The acting account lacks the role or relationship the action requires."""

    def __init__(self, actor: str, action: str, reason: str) -> None:
        self.actor, self.action, self.reason = actor, action, reason
        super().__init__(f"{actor} may not {action}: {reason}")


class ConflictError(MarketplaceError):
    """Someone else changed the object first (optimistic version check); reload and try again."""


class NotFound(MarketplaceError, LookupError):
    """A code or id that names nothing."""

    def __init__(self, kind: str, key: Any) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} {key!r} not found")


class PolicyRefusal(MarketplaceError):
    """A policy rule refused the request; `rule` names the rule so a trainer can read it aloud."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"{message} (rule: {rule})")


class PrivacyError(MarketplaceError):
    """A release that cannot meet its privacy target (or budget); nothing is released."""


class DatabaseUnavailable(MarketplaceError):
    """The database URL could not be reached or used."""


class SchemaError(MarketplaceError):
    """The database's schema revision is one this version cannot work with (e.g. made by a newer release)."""


class AuditKeyError(MarketplaceError):
    """The audit key is missing, unreadable or readable by others, or not the key a database's audit log is
    written with."""
