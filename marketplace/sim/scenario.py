"""Scenario files: a world spec + a policy (with overrides) + a demand model + review capacity + horizon +
seeds.

A scenario is a TOML file in `seed/scenarios/`, validated by pydantic with unknown keys forbidden. Every
problem in a file is reported together (file, key path, value, expected), the policy it names is loaded with
its overrides as part of the same check, and nothing is returned unless all of it is valid: no partial load.

Overrides use dotted keys (`{"review.capacity.holder": 80}`); a key under `policy.overrides.` is a dotted
policy key kept whole (`"policy.overrides.pricing.caps.per_call": "0.4"`). String values from the command
line are read as TOML values when they parse as one (`"80"` -> 80, `"[1, 2]"` -> a list), else kept as
strings.

Finding, reading, `extends` and dotted overrides are `marketplace.configfile`, shared with policy files.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from marketplace import configfile
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

#: A bound on every amount of a scenario (values, rates, costs): finite, and far above any real figure.
MAX_AMOUNT = 1e12
PosFloat = Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Prob = Annotated[float, Field(ge=0, le=1)]


class _Section(BaseModel):
    """Strict like policies: a string is not a number, 0 is not false (see marketplace.policy.schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


#: Longest free text of a scenario (a description).
MAX_TEXT_CHARS = 4000
#: Largest seed (numpy seeds are unsigned 32-bit... and more, but no scenario needs more).
MAX_SEED = 2**32 - 1
ReviewStageName = Annotated[ReviewStage, Strict(False)]


# ---------------------------------------------------------------- sections


class WorldSpec(_Section):
    """The synthetic world (marketplace.synth.build_world) the scenario runs on."""

    size: Literal["small", "province", "national"] = "small"
    """`national`: one world per provincial region, run as a regional run (see `Regions`)."""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    locale: Literal["en_US", "zh_CN"] = "en_US"


#: The most regions a national run may have (the national world has about 31).
MAX_REGIONS = 64


class Regions(_Section):
    """How a national world (`world.size = "national"`) runs: one task per region (or group of regions).

    Every figure here is an assumption (no published figure): `cross_share` is the share of each region's
    demand that asks for another region's data, `destination_weights` how those requests spread over the
    other regions (one weight per region, in region order; empty = equally), and `exchange_days` how often
    the regions exchange them: a request filed for another region in one interval enters that region's
    queues at the start of the next, as requests routed between provincial platforms would.
    `count` (default: every region of the national world) and `region_size` ("national": the national
    world's own regions; "small" / "province": stand-ins of that world size, for tests) let tests and
    notebooks run a smaller country. `rates_for` is the world size the scenario's demand rates and review
    capacities were written for: a region files at those rates scaled by its organizations per requester
    class relative to that world (each organization as active as there), and its review teams decide at
    the capacities scaled by its whole demand relative to it (each region staffed at that world's
    utilisation) — so Guangdong's demand is not Tibet's. Assumption: no published regional demand figures.
    """

    count: Annotated[int, Field(ge=1, le=MAX_REGIONS)] | None = None
    region_size: Literal["national", "small", "province"] = "national"
    cross_share: Prob = 0.05
    destination_weights: Annotated[list[NonNegFloat], Field(max_length=MAX_REGIONS)] = []
    exchange_days: Annotated[int, Field(ge=1, le=91)] = 7
    rates_for: Literal["small", "province"] = "province"


class PolicySpec(_Section):
    name: str = Field(min_length=1, max_length=200)
    overrides: Annotated[dict[Annotated[str, Field(max_length=200)], Any], Field(max_length=500)] = {}


class Horizon(_Section):
    days: Annotated[int, Field(ge=1, le=3660)] = 365
    start: date = date(2025, 1, 6)


class Seeds(_Section):
    """`default` for a single run; compare and sweep use `count` seeds starting at `default`."""

    default: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
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

    values: Annotated[list[Annotated[int, Field(ge=1, le=10_000_000)]], Field(min_length=1, max_length=100)]
    weights: Annotated[list[NonNegFloat], Field(min_length=1, max_length=100)]

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


class FreeClaims(_Section):
    """Requesters with a paid purpose who declare a free purpose instead, and how often misuse is found.

    `false_share`: the share of paid-purpose requests for products declared as `purpose` instead;
    `detection`: the probability that a false claim that was granted is found (revoked and charged).
    """

    false_share: Prob = 0.0
    detection: Prob = 0.0
    purpose: str = Field(default="public_welfare", max_length=64)


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
    free_claims: FreeClaims = Field(default_factory=FreeClaims)
    list_share: Prob = 0.0
    """Share of departments' sharing requests that cite the holder's sharing responsibility list (the holder
    then has no discretion: no rejection, no condition of its own; the deadline still applies)."""

    def weights(self, table: str, cls: str) -> Weights:
        t: dict[str, Weights] = getattr(self, table)
        return t.get(cls) or t["default"]

    def waiting_cost(self, cls: str) -> float:
        return self.waiting_cost_per_day.get(cls, self.waiting_cost_per_day.get("default", 0.0))

    def value_dist(self, domain: str) -> Lognormal | Uniform | Exponential:
        return self.values.get(domain) or self.values["default"]


class Review(_Section):
    """Review teams, one per stage: up to `capacity` decisions per working day, first come first served."""

    capacity: dict[ReviewStageName, Annotated[int, Field(ge=0, le=1_000_000)]]
    reject_rate: dict[ReviewStageName, Prob] = {}
    conditions_rate: Prob = 0.2
    """Share of approvals where the reviewer adds conditions of their own beyond the policy's."""
    service_mean_days: dict[
        ReviewStageName, Annotated[float, Field(gt=0, le=3660, allow_inf_nan=False)]
    ] = {}
    """Stages listed here are M/M/c queues instead of a daily quota: `capacity` reviewers work in parallel
    around the clock, first come first served, each decision taking an exponentially distributed time of
    this mean (calendar days). A modelling choice, made so the simulator can be checked against queueing
    theory (Erlang C, docs/simulator-validation.md); the working calendar still sets the due dates."""

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


class ComputeDemand(_Section):
    """Computation products ("usable but not visible") as requesters use them.

    `delivery`: "policy" follows the policy's delivery mode per grade and channel (`policy.delivery_mode`;
    "either" is taken as rows, which a requester prefers when offered); "rows" ships de-identified rows
    everywhere; "compute" sends every request the holder can compute over (`policy.supports_compute`) to
    computation. A compute grant wants Poisson(`queries_mean`) + 1 queries, each spending
    `epsilon_per_query` of the grant's ε budget (`compute.epsilon_per_grant`); queries past the budget go
    unanswered (budget exhaustion). Each answered query is billed in the policy's per-query unit, and the
    requester realises value x (1 - `utility_error`) x answered / wanted. Assumptions throughout: figures to
    vary; notebook 04 measures the utility error of aggregate and DP answers against rows.
    """

    delivery: Literal["policy", "rows", "compute"] = "policy"
    queries_mean: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)] = 20.0
    epsilon_per_query: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 0.1
    utility_error: Prob = 0.1


class Scenario(_Section):
    """A complete, validated scenario. Load one with `load_scenario`."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=MAX_TEXT_CHARS)
    world: WorldSpec = WorldSpec()
    policy: PolicySpec
    horizon: Horizon = Horizon()
    seeds: Seeds = Seeds()
    demand: Demand
    review: Review
    operators: Operators = Operators()
    compute: ComputeDemand = ComputeDemand()
    regions: Regions = Regions()
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


class ScenarioProblem(configfile.FileProblem):
    """One thing wrong with a scenario file."""

    __slots__ = ()
    bare_missing = False


class ScenarioFileError(configfile.ConfigFileError):
    """A scenario that cannot be loaded; `problems` lists every problem, one line each."""

    problem_type = ScenarioProblem


# ---------------------------------------------------------------- locating


def scenario_dir() -> Path:
    """Shipped scenarios: $MARKETPLACE_SCENARIO_DIR, else the repository's seed/scenarios."""
    return configfile.shipped_dir("MARKETPLACE_SCENARIO_DIR", "scenarios")


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios (file stems), sorted."""
    return configfile.toml_stems(scenario_dir())


def _extended_path(base_name: str, path: Path) -> Path:
    """A scenario's `extends`: one next to it, else a shipped one; never a path outside those folders."""
    return configfile.extends_path(base_name, path, scenario_dir(), "scenario", ScenarioFileError)


# ---------------------------------------------------------------- loading


def parse_value(raw: Any) -> Any:
    """A command-line string read as a TOML value when it is one ("80" -> 80, "true" -> True), else itself."""
    if not isinstance(raw, str):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _set_override(
    data: dict[str, Any], dotted: str, value: Any, file: str, problems: list[configfile.FileProblem]
) -> None:
    parts = dotted.split(".")
    policy_key = len(parts) > 2 and parts[0] == "policy" and parts[1] == "overrides"
    if policy_key:
        parts = ["policy", "overrides", ".".join(parts[2:])]
    parsed = parse_value(value)
    if policy_key and isinstance(parsed, float):
        # policy money and rates are exact decimals: keep the digits as written
        parsed = value if isinstance(value, str) else repr(value)
    configfile.set_dotted(data, parts, parsed, file, problems, ScenarioProblem)


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new, fully validated scenario with dotted-key `overrides` applied (sweeps use this per point)."""
    data = scenario.model_dump(mode="python", exclude={"source"})
    return _validate(data, overrides, scenario.source or scenario.name)


def load_scenario(name_or_path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario (and the policy it names, with its overrides); every problem at once."""
    path = configfile.existing_file(name_or_path, scenario_dir(), "scenario", ScenarioFileError)
    data = configfile.read_toml_with_extends(
        path, _extended_path, "scenario", ScenarioFileError, missing_base="the name of another scenario"
    )
    return _validate(data, overrides or {}, str(path))


def _expected(err: dict[str, Any]) -> str:
    hint = "no such key (check the spelling against the scenario schema)"
    return configfile.pydantic_expected(err, hint, missing="a value (the key is required)", verbatim=True)


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
                    configfile.MISSING,
                    f"weights for {', '.join(missing)} (or a default)",
                )
            )
    if "default" not in dem.values:
        out.append(
            ScenarioProblem(
                file,
                "demand.values.default",
                configfile.MISSING,
                "a value distribution for the domains not listed",
            )
        )
    return out


def _validate(data: dict[str, Any], overrides: dict[str, Any], file: str) -> Scenario:
    problems: list[configfile.FileProblem] = []
    data = dict(data)
    for dotted, value in overrides.items():
        _set_override(data, str(dotted), value, file, problems)
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
            value = (
                err.get("input", configfile.MISSING) if err.get("type") != "missing" else configfile.MISSING
            )
            if isinstance(value, dict):
                value = {k: v for k, v in list(value.items())[:4]}
            problems.append(ScenarioProblem(file, configfile.loc_to_key(loc), value, _expected(err)))
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
