"""Human-readable codes for registered objects (one format everywhere: seed, workflows, disclosure, import).

Codes are derived from a prefix, a year and a serial so that the same seed gives the same codes, and so that a
registration code can be read aloud in a workshop ("REG-2025-R-000012").
"""

from __future__ import annotations

PREFIXES = {
    "organization": "ORG",
    "account": "ACC",
    "resource": "RES",
    "registration": "REG",
    "authorization": "AUT",
    "product": "PRD",
    "request": "REQ",
    "grant": "GRT",
    "costfiling": "CST",
    "capfiling": "CAP",
    "plan": "PLN",
    "selection": "SEL",
    "sharinglist": "SCL",
    "listentry": "SCE",
}


def make_code(kind: str, serial: int, *, year: int | None = None, tag: str = "") -> str:
    """`make_code("registration", 12, year=2025, tag="R")` -> "REG-2025-R-000012"."""
    parts = [PREFIXES[kind]]
    if year is not None:
        parts.append(f"{year:04d}")
    if tag:
        parts.append(tag)
    parts.append(f"{serial:06d}")
    return "-".join(parts)
