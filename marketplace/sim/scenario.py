"""Scenario files: a world spec + a policy (with overrides) + a demand model + review capacity + horizon +
seeds.

A scenario is a TOML file in `seed/scenarios/`, validated by pydantic with unknown keys forbidden. Every
problem in a file is reported together (file, key path, value, expected), the policy it names is loaded with
its overrides as part of the same check, and nothing is returned unless all of it is valid: no partial load.

Overrides use dotted keys (`{"review.capacity.holder": 80}`); a key under `policy.overrides.` is a dotted
policy key kept whole (`"policy.overrides.pricing.caps.per_call": "0.4"`). String values from the command
line are read as TOML values when they parse as one (`"80"` -> 80, `"[1, 2]"` -> a list), else kept as
strings.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from marketplace.errors import MarketplaceError
from marketplace.policy import Policy, PolicyFileError, load_policy
from marketplace.vocabulary import BillingUnit, Channel, EnterpriseSize, Purpose, ReviewStage

__all__ = [
    "REQUESTER_CLASSES",
    "Scenario",
    "ScenarioFileError",
    "ScenarioProblem",
    "apply_overrides",
    "list_scenarios",
    "load_scenario",
    "parse_value",
    "scenario_dir",
]

#: Requester classes of the demand model: an organization kind, or `enterprise_<size>` for enterprises.
REQUESTER_CLASSES: tuple[str, ...] = (
    "department",
    "institution",
    *(f"enterprise_{s.value}" for s in EnterpriseSize),
    "research",
    "nonprofit",
)

PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Prob = Annotated[float, Field(ge=0, le=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- sections


class WorldSpec(_Section):
    """The synthetic world (marketplace.synth.build_world) the scenario runs on."""

    size: Literal["small", "province"] = "small"
    seed: int = 0
    locale: Literal["en_US", "zh_CN"] = "en_US"


class PolicySpec(_Section):
    name: str = Field(min_length=1)
    overrides: dict[str, Any] = {}


class Horizon(_Section):
    days: Annotated[int, Field(ge=1, le=3660)] = 365
    start: date = date(2025, 1, 6)


class Seeds(_Section):
    """`default` for a single run; compare and sweep use `count` seeds starting at `default`."""

    default: Annotated[int, Field(ge=0)] = 1
    count: Annotated[int, Field(ge=1, le=1000)] = 10


class Lognormal(_Section):
    dist: Literal["lognormal"]
    median: PosFloat
    sigma: Annotated[float, Field(gt=0, le=5)]


class Uniform(_Section):
    dist: Literal["uniform"]
    low: NonNegFloat
    high: PosFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self


class Exponential(_Section):
    dist: Literal["exponential"]
    mean: PosFloat


ValueDist = Annotated[Lognormal | Uniform | Exponential, Field(discriminator="dist")]


class VolumeChoice(_Section):
    """Volumes (in the product's billing unit) a request asks for, with their weights."""

    values: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)]
    weights: Annotated[list[NonNegFloat], Field(min_length=1)]

    @model_validator(mode="after")
    def _same_length(self) -> VolumeChoice:
        if len(self.values) != len(self.weights):
            raise ValueError(
                f"values ({len(self.values)}) and weights ({len(self.weights)}) differ in length"
            )
        if sum(self.weights) <= 0:
            raise ValueError("weights must not all be 0")
        return self


def _one() -> VolumeChoice:
    return VolumeChoice(values=[1], weights=[1.0])


class Volumes(_Section):
    per_product: VolumeChoice = Field(default_factory=_one)
    per_call: VolumeChoice = Field(
        default_factory=lambda: VolumeChoice(values=[1000, 10000, 100000], weights=[0.6, 0.3, 0.1])
    )
    per_month: VolumeChoice = Field(
        default_factory=lambda: VolumeChoice(values=[1, 3, 12], weights=[0.5, 0.3, 0.2])
    )
    per_record: VolumeChoice = Field(
        default_factory=lambda: VolumeChoice(values=[10000, 100000], weights=[0.7, 0.3])
    )

    def get(self, unit: BillingUnit) -> VolumeChoice:
        return getattr(self, unit.value)


Weights = dict[str, NonNegFloat]


class Demand(_Section):
    """Who arrives, what they want, what it is worth to them and what waiting costs them."""

    arrivals: dict[str, NonNegFloat]
    """Mean arrivals per day (Poisson) per requester class (see REQUESTER_CLASSES)."""
    purposes: dict[str, Weights]
    """Purpose weights per requester class; a missing class uses `default`."""
    channels: dict[str, Weights]
    """Channel weights per requester class (sharing, opening, authorized_operation); `default` as above."""
    values: dict[str, ValueDist]
    """Value of a request to its requester, per domain; `default` for the others."""
    waiting_cost_per_day: dict[str, NonNegFloat] = {"default": 0.0}
    volumes: Volumes = Field(default_factory=Volumes)
    target_zipf: NonNegFloat = 1.0
    """Popularity of resources/products: weight of the r-th most popular is r^-target_zipf."""
    org_zipf: NonNegFloat = 0.8
    """Activity of requester organizations within a class, likewise (drives access concentration)."""

    def weights(self, table: str, cls: str) -> Weights:
        t: dict[str, Weights] = getattr(self, table)
        return t.get(cls) or t["default"]

    def waiting_cost(self, cls: str) -> float:
        return self.waiting_cost_per_day.get(cls, self.waiting_cost_per_day.get("default", 0.0))

    def value_dist(self, domain: str) -> Lognormal | Uniform | Exponential:
        return self.values.get(domain) or self.values["default"]


class Review(_Section):
    """Review teams, one per stage: up to `capacity` decisions per working day, first come first served."""

    capacity: dict[ReviewStage, Annotated[int, Field(ge=0)]]
    reject_rate: dict[ReviewStage, Prob] = {}
    conditions_rate: Prob = 0.2
    """Share of approvals where the reviewer adds conditions of their own beyond the policy's."""

    @model_validator(mode="after")
    def _all_stages(self) -> Review:
        missing = [s.value for s in ReviewStage if s not in self.capacity]
        if missing:
            raise ValueError(f"capacity missing for stage(s) {', '.join(missing)}")
        return self


class Operators(_Section):
    """How operators price: `price_markup` x their listed actual price is the price they ask; the policy's cap
    (where one applies) still limits what a quote charges. 1.0 = the listed prices."""

    price_markup: Annotated[float, Field(gt=0, le=100)] = 1.0


class Scenario(_Section):
    """A complete, validated scenario. Load one with `load_scenario`."""

    name: str = Field(min_length=1)
    description: str = ""
    world: WorldSpec = WorldSpec()
    policy: PolicySpec
    horizon: Horizon = Horizon()
    seeds: Seeds = Seeds()
    demand: Demand
    review: Review
    operators: Operators = Operators()
    source: str = ""
    """The file it was loaded from (set by the loader)."""

    @cached_property
    def policy_obj(self) -> Policy:
        """The policy in force, with the scenario's overrides (validated when the scenario loads)."""
        return load_policy(self.policy.name, self.policy.overrides or None)

    def __reduce__(self) -> Any:
        # Pickle as data (for process pools and Dask): the cached policy is rebuilt on the other side.
        return (_rebuild, (self.model_dump(mode="python"),))


def _rebuild(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


# ---------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong with a scenario file."""

    file: str
    key: str
    value: Any
    expected: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: got {self.value!r}; expected {self.expected}"


class ScenarioFileError(MarketplaceError):
    """A scenario that cannot be loaded; `problems` lists every problem, one line each."""

    def __init__(self, problems: list[ScenarioProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------- locating


def scenario_dir() -> Path:
    """Shipped scenarios: $MARKETPLACE_SCENARIO_DIR, else the repository's seed/scenarios."""
    env = os.environ.get("MARKETPLACE_SCENARIO_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "seed" / "scenarios"


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios (file stems), sorted."""
    d = scenario_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    s = os.fspath(name_or_path)
    if s.endswith(".toml") or "/" in s or os.sep in s:
        return Path(s)
    return scenario_dir() / f"{s}.toml"


# ---------------------------------------------------------------- loading


def parse_value(raw: Any) -> Any:
    """A command-line string read as a TOML value when it is one ("80" -> 80, "true" -> True), else itself."""
    if not isinstance(raw, str):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _set_dotted(
    data: dict[str, Any], dotted: str, value: Any, file: str, problems: list[ScenarioProblem]
) -> None:
    parts = dotted.split(".")
    policy_key = len(parts) > 2 and parts[0] == "policy" and parts[1] == "overrides"
    if policy_key:
        parts = ["policy", "overrides", ".".join(parts[2:])]
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif isinstance(nxt, dict):
            nxt = node[part] = dict(nxt)
        if not isinstance(nxt, dict):
            problems.append(
                ScenarioProblem(file, ".".join(parts[: i + 1]), nxt, "a table to override a key in")
            )
            return
        node = nxt
    parsed = parse_value(value)
    if policy_key and isinstance(parsed, int | float) and not isinstance(parsed, bool):
        parsed = str(value)  # policy money and rates are exact decimals: keep the digits as written
    node[parts[-1]] = parsed


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new, fully validated scenario with dotted-key `overrides` applied (sweeps use this per point)."""
    data = scenario.model_dump(mode="python", exclude={"source"})
    return _validate(data, overrides, scenario.source or scenario.name)


def load_scenario(name_or_path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario (and the policy it names, with its overrides); every problem at once."""
    path = _resolve(name_or_path)
    if not path.is_file():
        known = ", ".join(list_scenarios()) or "(none)"
        raise ScenarioFileError(
            [
                ScenarioProblem(
                    str(path),
                    "(file)",
                    os.fspath(name_or_path),
                    f"an existing scenario file or one of: {known}",
                )
            ]
        )
    return _validate(_read_with_extends(path, []), overrides or {}, str(path))


def _read_with_extends(path: Path, chain: list[Path]) -> dict[str, Any]:
    """The file merged over the scenario it `extends` (tables merge, other values replace)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError([ScenarioProblem(str(path), "(syntax)", str(exc), "valid TOML")]) from None
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    base_path = (
        _resolve(base_name)
        if not isinstance(base_name, str) or "/" in base_name
        else path.parent / f"{base_name.removesuffix('.toml')}.toml"
    )
    if not isinstance(base_name, str) or not base_path.is_file():
        raise ScenarioFileError(
            [ScenarioProblem(str(path), "extends", base_name, "the name of another scenario")]
        )
    if base_path.resolve() in [p.resolve() for p in (*chain, path)]:
        raise ScenarioFileError(
            [ScenarioProblem(str(path), "extends", base_name, "a scenario that does not extend itself")]
        )
    return _merge(_read_with_extends(base_path, [*chain, path]), data)


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in child.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _expected(err: dict[str, Any]) -> str:
    t = err.get("type", "")
    if t == "extra_forbidden":
        return "no such key (check the spelling against the scenario schema)"
    if t == "missing":
        return "a value (the key is required)"
    msg = str(err.get("msg", "a valid value"))
    return msg.removeprefix("Value error, ")


_MISSING = "(missing)"


def _cross_checks(sc: Scenario, file: str) -> list[ScenarioProblem]:
    """Checks across keys that pydantic cannot name precisely: class, purpose and channel names in tables."""
    out: list[ScenarioProblem] = []
    dem = sc.demand
    classes = set(REQUESTER_CLASSES)
    for name, keys, allowed in (
        ("arrivals", dem.arrivals, classes),
        ("purposes", dem.purposes, classes | {"default"}),
        ("channels", dem.channels, classes | {"default"}),
        ("waiting_cost_per_day", dem.waiting_cost_per_day, classes | {"default"}),
    ):
        for k in keys:
            if k not in allowed:
                out.append(
                    ScenarioProblem(
                        file, f"demand.{name}.{k}", keys[k], "a key among: " + ", ".join(sorted(allowed))
                    )
                )
    purposes = {p.value for p in Purpose}
    channels = {c.value for c in Channel}
    for name, table, allowed in (("purposes", dem.purposes, purposes), ("channels", dem.channels, channels)):
        for cls, w in table.items():
            for k in w:
                if k not in allowed:
                    out.append(
                        ScenarioProblem(
                            file,
                            f"demand.{name}.{cls}.{k}",
                            w[k],
                            "a key among: " + ", ".join(sorted(allowed)),
                        )
                    )
            if not w or sum(w.values()) <= 0:
                out.append(ScenarioProblem(file, f"demand.{name}.{cls}", w, "weights that are not all 0"))
        missing = [c for c in REQUESTER_CLASSES if c not in table and dem.arrivals.get(c, 0) > 0]
        if missing and "default" not in table:
            out.append(
                ScenarioProblem(
                    file,
                    f"demand.{name}.default",
                    _MISSING,
                    f"weights for {', '.join(missing)} (or a default)",
                )
            )
    if "default" not in dem.values:
        out.append(
            ScenarioProblem(
                file, "demand.values.default", _MISSING, "a value distribution for the domains not listed"
            )
        )
    return out


def _validate(data: dict[str, Any], overrides: dict[str, Any], file: str) -> Scenario:
    problems: list[ScenarioProblem] = []
    data = dict(data)
    for dotted, value in overrides.items():
        _set_dotted(data, str(dotted), value, file, problems)
    data.pop("source", None)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate({**data, "source": file})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(
                p
                for p in err["loc"]
                if not (isinstance(p, str) and p in {"lognormal", "uniform", "exponential"})
            )
            value = err.get("input", _MISSING) if err.get("type") != "missing" else _MISSING
            if isinstance(value, dict):
                value = {k: v for k, v in list(value.items())[:4]}
            problems.append(ScenarioProblem(file, _loc(loc), value, _expected(err)))
    if scenario is not None:
        problems.extend(_cross_checks(scenario, file))
    pol = data.get("policy")
    if (
        isinstance(pol, dict)
        and isinstance(pol.get("name"), str)
        and isinstance(pol.get("overrides", {}), dict)
    ):
        try:
            policy = load_policy(pol["name"], pol.get("overrides") or None)
            if scenario is not None:
                scenario.__dict__["policy_obj"] = policy
        except PolicyFileError as exc:
            for p in exc.problems:
                key = "policy.name" if p.key == "(file)" else f"policy.overrides.{p.key}"
                problems.append(ScenarioProblem(file, key, p.value, f"{p.expected} (policy {p.file})"))
        except MarketplaceError as exc:
            problems.append(ScenarioProblem(file, "policy", pol["name"], str(exc)))
    if problems:
        raise ScenarioFileError(problems)
    assert scenario is not None
    return scenario
