"""The data the synthetic world is made from: world specs (seed/world/) and catalog templates
(seed/templates/).

Counts, names, regions and table templates are data files, not code, so a trainer can add a domain or a city
without touching the generators. Files are read once per process.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from marketplace.errors import InvalidInput
from marketplace.vocabulary import FieldMarking, FieldType, Grade, OpeningAttribute, SharingAttribute

SIZES = ("small", "province", "national")
DEFAULT_SEED, DEFAULT_SIZE, DEFAULT_LOCALE = 42, "small", "en_US"
LOCALES = ("en_US", "zh_CN")


def seed_dir() -> Path:
    """$MARKETPLACE_SEED_DIR, else the seed data shipped with the package."""
    from marketplace.configfile import seed_data  # pydantic: not needed to declare `seed`'s options

    env = os.environ.get("MARKETPLACE_SEED_DIR")
    return Path(env) if env else seed_data()


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class FieldSpec:
    """One column of a resource schema: what `rows` generates and how the privacy pipeline treats it."""

    name: str
    dtype: FieldType
    marking: FieldMarking
    generator: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    """A catalog template: one kind of resource a regional government holds, with its field schema."""

    name: str
    domain: str
    holder: str
    title: dict[str, str]
    grade: Grade
    sharing: SharingAttribute
    opening: OpeningAttribute
    update_frequency: str
    rows: int
    cost_per_record: float
    keywords: tuple[str, ...]
    fields: tuple[FieldSpec, ...]


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInput("locale", locale, "one of " + ", ".join(LOCALES))
    return locale


def check_size(size: str) -> str:
    if size not in SIZES:
        raise InvalidInput("size", size, "one of " + ", ".join(SIZES))
    return size


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput("seed", seed, "a non-negative integer")
    return seed


@cache
def world_spec() -> dict[str, Any]:
    return _read(seed_dir() / "world" / "world.toml")


@cache
def national_spec() -> dict[str, Any]:
    """The `national` world's regions, calibration (with its sources) and per-region parties."""
    return _read(seed_dir() / "world" / "national.toml")


@cache
def regions(locale: str) -> dict[str, Any]:
    return _read(seed_dir() / "world" / "regions.toml")[check_locale(locale)]


@cache
def vocab() -> dict[str, Any]:
    return _read(seed_dir() / "templates" / "_vocab.toml")


def epoch() -> datetime:
    """The sandbox epoch every seeded timestamp derives from (timezone-aware UTC)."""
    return datetime.fromisoformat(world_spec()["epoch"])


@cache
def templates() -> tuple[Template, ...]:
    """Every catalog template, ordered by domain (as listed in world.toml), then by file order."""
    domains: list[str] = world_spec()["domains"]
    out: list[Template] = []
    for domain in domains:
        path = seed_dir() / "templates" / f"{domain}.toml"
        data = _read(path)
        for t in data["resources"]:
            fields = tuple(
                FieldSpec(
                    f["name"],
                    FieldType(f["dtype"]),
                    FieldMarking(f["marking"]),
                    f.get("generator", ""),
                    dict(f.get("params", {})),
                )
                for f in t["fields"]
            )
            out.append(
                Template(
                    name=t["name"],
                    domain=domain,
                    holder=t["holder"],
                    title=dict(t["title"]),
                    grade=Grade(t["grade"]),
                    sharing=SharingAttribute(t["sharing"]),
                    opening=OpeningAttribute(t["opening"]),
                    update_frequency=t["update_frequency"],
                    rows=int(t["rows"]),
                    cost_per_record=float(t["cost_per_record"]),
                    keywords=tuple(t.get("keywords", ())),
                    fields=fields,
                )
            )
    return tuple(out)


@cache
def domain_labels() -> dict[str, dict[str, str]]:
    return {
        d: dict(_read(seed_dir() / "templates" / f"{d}.toml").get("label", {}))
        for d in world_spec()["domains"]
    }
