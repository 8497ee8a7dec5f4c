"""Workshop exercises as data: `seed/exercises/*.toml`, each with English and Chinese text and a completion
check.

A check is declarative so that trainers can write new exercises without code. Two sources are understood:

- `source = "table"`: count rows of a marketplace table whose `actor_column` is the participant's account id,
  filtered by `where` (column = value, or column in [values]), `where_not` and `present` (columns that must
  hold a value, e.g. the list entry a request cites);
- `source = "audit"`: count audit events by the participant whose `action` is one of `actions`, with
  `outcome`.

The participant has completed the exercise when the count reaches `min_count`. Table and column names are
checked against the tables when the file is loaded, so a typo fails at load time with the file and key named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from marketplace import models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.configfile import shipped_dir
from marketplace.errors import InvalidInput, MarketplaceError, NotFound
from marketplace.vocabulary import AuditOutcome, Role

ENV_DIR = "MARKETPLACE_EXERCISES"
LANGS = ("en", "zh")
Scalar = str | int | float | bool


class ExerciseFileError(MarketplaceError):
    """An exercise file that does not validate; the message names the file, key, value and what was
    expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Check(_Strict):
    source: Literal["table", "audit"]
    table: str = ""
    actor_column: str = ""
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    where_not: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    present: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    outcome: AuditOutcome = AuditOutcome.ok
    min_count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _known_names(self) -> Check:
        if self.source == "audit":
            if not self.actions:
                raise ValueError("check.actions: an audit check needs at least one action name")
            return self
        tables = SQLModel.metadata.tables
        if self.table not in tables:
            raise ValueError(f"check.table: got {self.table!r}; expected one of {', '.join(sorted(tables))}")
        columns = set(tables[self.table].columns.keys())
        for key, names in (
            ("actor_column", [self.actor_column]),
            ("where", list(self.where)),
            ("where_not", list(self.where_not)),
            ("present", list(self.present)),
        ):
            bad = [n for n in names if n not in columns]
            if bad:
                raise ValueError(
                    f"check.{key}: got {bad[0]!r}; expected a column of {self.table}: "
                    + ", ".join(sorted(columns))
                )
        return self


class Exercise(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    order: int = Field(ge=0)
    roles: list[Role] = Field(default_factory=list, description="who it is for; empty = everyone")
    groups: list[str] = Field(
        default_factory=list,
        description="the roster groups it is for (e.g. department: only departments cite a sharing list); "
        "empty = every group with one of `roles`",
    )
    title: Text
    instructions: Text
    check: Check

    @model_validator(mode="after")
    def _known_groups(self) -> Exercise:
        from marketplace.workshop.roster import GROUPS

        bad = [g for g in self.groups if g not in GROUPS]
        if bad:
            raise ValueError(f"groups: got {bad[0]!r}; expected roster groups: " + ", ".join(GROUPS))
        return self

    def text(self, lang: str = "en") -> tuple[str, str]:
        """(title, instructions) in `lang` ('en' or 'zh')."""
        if lang not in LANGS:
            raise InvalidInput("lang", lang, "one of " + ", ".join(LANGS))
        return getattr(self.title, lang), getattr(self.instructions, lang)

    def applies_to(self, roles: set[Role] | set[str], group: str | None = None) -> bool:
        """Meant for a seat with `roles` in roster `group` (no group known: the group filter is skipped)."""
        if self.groups and group is not None and group not in self.groups:
            return False
        return not self.roles or bool({Role(r) for r in roles} & set(self.roles))


def exercise_dir() -> Path:
    """$MARKETPLACE_EXERCISES when set, else the exercises shipped with the package."""
    return shipped_dir(ENV_DIR, "exercises")


def _problem(file: Path, err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(file)"
    msg = err["msg"].removeprefix("Value error, ")
    return (
        f"{file.name}: {loc}: {msg} (got {err.get('input')!r})" if "input" in err else f"{file.name}: {msg}"
    )


def load_exercise_file(path: str | Path) -> Exercise:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExerciseFileError(f"{path}: cannot read as TOML: {exc}") from exc
    try:
        ex = Exercise.model_validate(data)
    except ValidationError as exc:
        raise ExerciseFileError("; ".join(_problem(path, e) for e in exc.errors(include_url=False))) from exc
    if ex.id != path.stem:
        raise ExerciseFileError(f"{path.name}: id: got {ex.id!r}; expected the file name {path.stem!r}")
    return ex


@cache
def _load_dir(directory: str) -> tuple[Exercise, ...]:
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise ExerciseFileError(f"{directory}: no exercise files (*.toml)")
    found = [load_exercise_file(f) for f in files]
    return tuple(sorted(found, key=lambda e: (e.order, e.id)))


def load_exercises(directory: str | Path | None = None) -> list[Exercise]:
    """Every exercise, in teaching order."""
    return list(_load_dir(str(directory or exercise_dir())))


def get_exercise(exercise_id: str, directory: str | Path | None = None) -> Exercise:
    for ex in load_exercises(directory):
        if ex.id == exercise_id:
            return ex
    raise NotFound("exercise", exercise_id)


def title_in(exercise_id: str, title: str, lang: str) -> str:
    """A dashboard's exercise title (the English one) in `lang` when it is the shipped exercise's own title;
    an exercise from elsewhere keeps the title it came with."""
    try:
        ex = get_exercise(exercise_id)
    except NotFound:
        return title
    return ex.text(lang)[0] if ex.title.en == title else title


@dataclass(frozen=True)
class CheckResult:
    exercise_id: str
    account_id: int
    count: int
    needed: int

    @property
    def done(self) -> bool:
        return self.count >= self.needed


def _match(col: sa.Column, value: Scalar | list[Scalar]) -> sa.ColumnElement[bool]:
    return col.in_(value) if isinstance(value, list) else col == value


def count_for(conn: Connection, check: Check, account_ids: list[int]) -> dict[int, int]:
    """How many matching rows/events each account has (one query for all accounts)."""
    if not account_ids:
        return {}
    if check.source == "audit":
        table = SQLModel.metadata.tables["auditevent"]
        actor = table.c.actor_id
        conds = [table.c.action.in_(check.actions), table.c.outcome == check.outcome.value]
    else:
        table = SQLModel.metadata.tables[check.table]
        actor = table.c[check.actor_column]
        conds = [_match(table.c[k], v) for k, v in check.where.items()]
        conds += [sa.not_(_match(table.c[k], v)) for k, v in check.where_not.items()]
        conds += [table.c[k].is_not(None) for k in check.present]
    query = sa.select(actor, sa.func.count()).where(actor.in_(account_ids), *conds).group_by(actor)
    got = dict(conn.execute(query).all())
    return {a: int(got.get(a, 0)) for a in account_ids}


def evaluate(conn: Connection, exercise: Exercise, account_id: int) -> CheckResult:
    """Has `account_id` completed `exercise`?"""
    n = count_for(conn, exercise.check, [account_id])[account_id]
    return CheckResult(exercise.id, account_id, n, exercise.check.min_count)
