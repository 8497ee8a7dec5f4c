"""Participants: accounts created for a workshop, each bound to one unguessable join code, and the roster CSV.

A role mix says how many seats of each kind to create ("department=5,enterprise=10,steward=3,operator=2").
Seats go into organizations of the seeded world when it has some of the right kind (stewards into the
organizations that hold the most resources, so their review queues fill up), otherwise into new workshop
organizations. Organizations are chosen with an explicit seed, so the same command on the same world gives
the same seating.

Join codes come from `secrets` (80 bits, grouped for reading aloud); only digests are stored: SHA-256 to find
the seat, and a salted, slow argon2id digest that the workshop server verifies before issuing a session.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, func, select

from marketplace.errors import InvalidInput, PermissionDenied
from marketplace.models import Account, AccountRole, Organization, Participant, Resource
from marketplace.vocabulary import EnterpriseSize, OrganizationKind, Role

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are read off paper
CODE_GROUPS, CODE_GROUP_LEN = 4, 4
# argon2id at OWASP's lowest recommended cost (19 MiB, 2 passes, 1 lane). Assumption: enough for 80-bit
# random codes, and cheap enough (20-50 ms) to seat 1,000 participants or check a join without stalling.
KDF = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Seat:
    """What a group of the role mix becomes: the kind of organization and the roles the account holds."""

    org_kind: OrganizationKind
    roles: tuple[Role, ...]
    holder: bool = False  # prefer organizations that hold resources (stewards)


GROUPS: dict[str, Seat] = {
    "department": Seat(OrganizationKind.department, (Role.requester,)),
    "institution": Seat(OrganizationKind.institution, (Role.requester,)),
    "enterprise": Seat(OrganizationKind.enterprise, (Role.requester,)),
    "research": Seat(OrganizationKind.research, (Role.requester,)),
    "nonprofit": Seat(OrganizationKind.nonprofit, (Role.requester,)),
    "steward": Seat(OrganizationKind.department, (Role.steward,), holder=True),
    "security_reviewer": Seat(OrganizationKind.department, (Role.security_reviewer,), holder=True),
    "operator": Seat(OrganizationKind.operator, (Role.operator,)),
    "registrar": Seat(OrganizationKind.regulator, (Role.registrar,)),
    "regulator": Seat(OrganizationKind.regulator, (Role.regulator,)),
}
TRAINER_GROUP = "trainer"
BACKGROUND_GROUP = "background"
DEFAULT_MIX = {"department": 5, "enterprise": 10, "steward": 3, "operator": 2}


def parse_mix(text: str | None, participants: int) -> dict[str, int]:
    """'department=5,enterprise=10' -> counts summing to `participants`.

    Without a mix, the default proportions are scaled to `participants` (largest remainders).
    """
    if participants < 1 or participants > 1000:
        raise InvalidInput("--participants", participants, "a whole number from 1 to 1000")
    if not text:
        total = sum(DEFAULT_MIX.values())
        shares = {g: participants * n / total for g, n in DEFAULT_MIX.items()}
        mix = {g: int(s) for g, s in shares.items()}
        for g in sorted(shares, key=lambda g: shares[g] - mix[g], reverse=True)[
            : participants - sum(mix.values())
        ]:
            mix[g] += 1
        return {g: n for g, n in mix.items() if n}
    mix: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([a-z_]+)\s*=\s*(\d+)", part)
        if not m:
            raise InvalidInput(
                "--roles", part, "GROUP=COUNT pairs separated by commas, e.g. department=5,steward=3"
            )
        group, count = m.group(1), int(m.group(2))
        if group not in GROUPS:
            raise InvalidInput("--roles", group, "one of " + ", ".join(GROUPS))
        mix[group] = mix.get(group, 0) + count
    if sum(mix.values()) != participants:
        raise InvalidInput(
            "--roles",
            text,
            f"counts that add up to --participants ({participants}); they add up to {sum(mix.values())}",
        )
    return {g: n for g, n in mix.items() if n}


def new_join_code() -> str:
    """An unguessable code such as 'K7QM-3XTA-9PRD-W2HF' (80 bits from `secrets`)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    return "-".join(chars[i : i + CODE_GROUP_LEN] for i in range(0, len(chars), CODE_GROUP_LEN))


def normalize_code(code: str) -> str:
    return re.sub(r"[\s-]", "", str(code)).upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def code_kdf(code: str) -> str:
    """The salted, slow digest of a join code (argon2id, its parameters and salt inside the string)."""
    return KDF.hash(normalize_code(code))


def code_kdf_matches(stored: str, code: str) -> bool:
    """Whether `code` is the code `stored` was made from (constant-time inside argon2)."""
    try:
        return KDF.verify(stored, normalize_code(code))
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class RosterEntry:
    seat: int
    group: str
    join_code: str
    account_id: int
    username: str
    display_name: str
    organization: str
    organization_kind: str
    roles: str
    server_url: str = ""  # the workshop server's address, when `workshop serve --roster` filled it in


ROSTER_FIELDS = [
    "seat",
    "group",
    "join_code",
    "username",
    "display_name",
    "organization",
    "organization_kind",
    "roles",
    "account_id",
    "server_url",
]


def write_roster(entries: Iterable[RosterEntry], path: str | Path) -> Path:
    """The roster as CSV: one row per seat, with the join code to hand to that person. Mode 0600: the codes
    act as their accounts, so only the trainer's machine account may read the file."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if os.name == "posix":
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ROSTER_FIELDS)
        writer.writeheader()
        for e in entries:
            writer.writerow({k: getattr(e, k) for k in ROSTER_FIELDS})
    return path


def set_roster_url(path: str | Path, url: str) -> Path:
    """Fill the workshop server's URL into every row of a roster (kept at mode 0600), so each participant's
    slip carries the address and their code."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput("--roster", str(path), f"a roster CSV from workshop create ({exc})") from None
    if not rows or not set(ROSTER_FIELDS[:-1]) <= set(rows[0]):
        raise InvalidInput("--roster", str(path), "a roster CSV written by workshop create")
    entries = [
        RosterEntry(**{k: r.get(k, "") for k in ROSTER_FIELDS if k != "server_url"}, server_url=url)
        for r in rows
    ]
    return write_roster(entries, path)


def _holders(session: Session) -> list[int]:
    """Organizations holding resources, most resources first (ties by id): where stewards are useful."""
    rows = session.exec(
        select(Resource.holder_id, func.count())
        .group_by(Resource.holder_id)
        .order_by(func.count().desc(), Resource.holder_id)
    ).all()
    return [r[0] for r in rows]


def _orgs_of_kind(session: Session, kind: OrganizationKind) -> list[int]:
    return list(
        session.exec(select(Organization.id).where(Organization.kind == kind).order_by(Organization.id)).all()
    )


def _new_org(session: Session, kind: OrganizationKind, n: int) -> Organization:
    org = Organization(
        code=f"ORG-WS-{kind.value[:3].upper()}-{n:03d}-{secrets.token_hex(2).upper()}",
        name=f"Workshop {kind.value} {n}",
        kind=kind,
        region="workshop",
        size=EnterpriseSize.small if kind == OrganizationKind.enterprise else None,
    )
    session.add(org)
    session.flush()
    return org


def _next_seat(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(Participant.seat), 0))).one()) + 1


def add_participant(
    session: Session, *, group: str, org_id: int, roles: Iterable[Role], seat: int, label: str
) -> tuple[Participant, Account, str]:
    """Create one account + participant row in `session`; returns them and the plain join code (shown
    once)."""
    token = secrets.token_hex(3)
    account = Account(
        username=f"ws-{seat:03d}-{group}-{token}", display_name=label, organization_id=org_id, email=""
    )
    session.add(account)
    session.flush()
    for role in sorted(set(roles)):
        session.add(AccountRole(account_id=account.id, role=role))
    code = new_join_code()
    participant = Participant(
        account_id=account.id,
        join_code_hash=code_hash(code),
        join_code_kdf=code_kdf(code),
        seat=seat,
        group=group,
    )
    session.add(participant)
    session.flush()
    return participant, account, code


def seat_participants(
    session: Session, mix: dict[str, int], *, seed: int = 0, group_label: str | None = None
) -> list[RosterEntry]:
    """Create the seats of `mix` (checked by `parse_mix`) in `session`; roster entries in seat order.

    `group_label` files every seat under one group (e.g. `background`) instead of its mix group.
    """
    rng = random.Random(seed)
    holders = _holders(session)
    entries: list[RosterEntry] = []
    seat = _next_seat(session)
    new_orgs: dict[OrganizationKind, list[int]] = {}
    for group, count in mix.items():
        spec = GROUPS[group]
        pool = [h for h in holders if spec.holder] or _orgs_of_kind(session, spec.org_kind)
        if pool and not spec.holder:
            pool = rng.sample(pool, len(pool))
        for i in range(count):
            if pool:
                org_id = pool[i % len(pool)]
            else:
                made = new_orgs.setdefault(spec.org_kind, [])
                if len(made) < max(1, (count + 2) // 3):  # about three seats per new organization
                    made.append(_new_org(session, spec.org_kind, len(made) + 1).id)
                org_id = made[i % len(made)]
            org = session.get(Organization, org_id)
            label = f"{group.replace('_', ' ').title()} {i + 1}"
            _, account, code = add_participant(
                session, group=group_label or group, org_id=org_id, roles=spec.roles, seat=seat, label=label
            )
            entries.append(
                RosterEntry(
                    seat,
                    group_label or group,
                    code,
                    account.id,
                    account.username,
                    label,
                    org.name,
                    org.kind.value,
                    " ".join(r.value for r in spec.roles),
                )
            )
            seat += 1
    return entries


def trainer_exists(session: Session) -> bool:
    """Is there a trainer SEAT (a trainer account reachable by a join code)? Seeded trainer accounts without a
    code do not count: nobody could open the console with them."""
    q = (
        select(func.count())
        .select_from(Participant)
        .join(AccountRole, AccountRole.account_id == Participant.account_id)
        .where(AccountRole.role == Role.trainer)
    )
    return bool(session.exec(q).one())


def seat_trainer(session: Session, *, label: str = "Trainer") -> RosterEntry:
    """The first trainer seat of a workshop; refused once a trainer seat exists (later ones: `grant_role`)."""
    if trainer_exists(session):
        raise PermissionDenied(
            "anyone",
            "create the first trainer",
            "a trainer already exists; an existing trainer must add seats",
        )
    org_ids = _orgs_of_kind(session, OrganizationKind.regulator)
    org = (
        session.get(Organization, org_ids[0]) if org_ids else _new_org(session, OrganizationKind.regulator, 0)
    )
    seat = _next_seat(session)
    _, account, code = add_participant(
        session, group=TRAINER_GROUP, org_id=org.id, roles=[Role.trainer], seat=seat, label=label
    )
    return RosterEntry(
        seat,
        TRAINER_GROUP,
        code,
        account.id,
        account.username,
        label,
        org.name,
        org.kind.value,
        Role.trainer.value,
    )


def participant_by_code(session: Session, code: str) -> Participant | None:
    return session.exec(select(Participant).where(Participant.join_code_hash == code_hash(code))).first()


def role_names(session: Session, account_id: int) -> frozenset[Role]:
    rows = session.exec(select(AccountRole.role).where(AccountRole.account_id == account_id)).all()
    return frozenset(Role(r) for r in rows)


def participants_frame_rows(session: Session) -> list[dict[str, object]]:
    """Seats with their account and organization, for the dashboard."""
    q = (
        select(
            Participant.seat,
            Participant.group,
            Participant.account_id,
            Account.display_name,
            Organization.name,
            Participant.last_seen_at,
        )
        .join(Account, Account.id == Participant.account_id)
        .join(Organization, Organization.id == Account.organization_id)
        .order_by(Participant.seat)
    )
    return [
        dict(seat=s, group=g, account_id=a, name=n, organization=o, last_seen=ls)
        for s, g, a, n, o, ls in session.exec(q).all()
    ]


def touch(session: Session, participant_id: int, at: sa.ColumnElement | object) -> None:
    session.connection().execute(
        sa.update(Participant.__table__).where(Participant.id == participant_id).values(last_seen_at=at)
    )
