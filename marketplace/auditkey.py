"""The audit key: a secret that lives outside the database and keys the audit log and checkpoint MACs.

Why a key: anyone who can write to the database could otherwise rewrite the whole audit chain and re-hash it
(or forge a checkpoint). With HMAC-SHA-256 under a key the database never holds, a rewritten event, a
renumbered or re-hashed chain or a planted checkpoint no longer verifies.

Where it lives: `MARKETPLACE_AUDIT_KEY` (hex, at least 32 bytes: `python -c "import secrets;
print(secrets.token_hex(32))"`) for servers; otherwise the file `audit.key` in the data directory, created on
first use with mode 0600 (a key file others can read is refused, as ssh does). The key's id (a MAC of a fixed
label) is stored with the log so a wrong key is told apart from tampering.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.errors import AuditKeyError

ENV_KEY = "MARKETPLACE_AUDIT_KEY"
KEY_FILE = "audit.key"
KEY_BYTES = 32
_ID_LABEL = b"marketplace-audit-key-id"

__all__ = ["ENV_KEY", "KEY_FILE", "AuditKey", "key_path", "load_key"]


@dataclass(frozen=True)
class AuditKey:
    """The secret and where it came from (`source` is what a message names; the secret is never shown)."""

    secret: bytes = field(repr=False)
    source: str
    subkeys: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (16 hex digits): tells "wrong key" apart from "tampered"."""
        return hmac.new(self.secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def mac(self, data: bytes, purpose: str = "audit") -> str:
        """HMAC-SHA-256 of `data` under a sub-key for `purpose` (audit events, anchors, checkpoints)."""
        sub = self.subkeys.get(purpose)
        if sub is None:
            sub = self.subkeys[purpose] = hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(sub, data, hashlib.sha256).hexdigest()

    def matches(self, data: bytes, mac: str, purpose: str = "audit") -> bool:
        return isinstance(mac, str) and hmac.compare_digest(self.mac(data, purpose), mac)


def key_path() -> Path:
    from marketplace.db import data_dir

    return data_dir() / KEY_FILE


def _parse(text: str, source: str) -> AuditKey:
    text = text.strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise AuditKeyError(
            f"{source}: the audit key must be hex digits, e.g. from secrets.token_hex(32)"
        ) from None
    if len(secret) < KEY_BYTES:
        raise AuditKeyError(
            f"{source}: the audit key must be at least {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits)"
        )
    return AuditKey(secret, source)


_cache: dict[tuple[str, str], AuditKey] = {}
_lock = threading.Lock()


def load_key(*, create: bool = True) -> AuditKey:
    """The audit key: from the environment, else the key file (created with mode 0600 when `create`)."""
    env = os.environ.get(ENV_KEY, "")
    path = key_path() if not env else Path()
    try:
        seen = path.stat() if not env else None
    except OSError:
        seen = None
    # A replaced or deleted key file is read again (one stat per use; reading is rare).
    cache_key = (env, str(path), seen.st_ino if seen else -1, seen.st_mtime_ns if seen else -1)
    with _lock:
        found = _cache.get(cache_key)
        if found is not None:
            return found
        key = _parse(env, ENV_KEY) if env else _read_or_create(path, create)
        if env or seen is not None:  # a file made just now is cached at its next use, under its own stat
            _cache[cache_key] = key
        return key


def _read_or_create(path: Path, create: bool) -> AuditKey:
    if not path.exists():
        if not create:
            raise AuditKeyError(
                f"no audit key: set {ENV_KEY} or put the key file at {path} "
                "(the log cannot be checked without it)"
            )
        # Written to a private temporary file, then linked into place: a concurrent reader never sees half
        # a key, and of two processes making it at once the first wins and both read its key.
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(KEY_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        except OSError as exc:
            raise AuditKeyError(f"{path}: cannot create the audit key file ({exc.strerror})") from exc
        finally:
            tmp.unlink(missing_ok=True)
    try:
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise AuditKeyError(f"{path}: the audit key file must be readable by its owner only (chmod 600)")
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"{path}: cannot read the audit key file ({exc})") from exc
    return _parse(text, str(path))
