"""Policy files: the shipped ones load; bad ones are refused with one precise message per problem."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.i18n import policy_summary_lines
from marketplace.policy import (
    Policy,
    PolicyFileError,
    diff_policies,
    list_policies,
    load_policy,
    policy_dir,
    policy_summary,
)

SHIPPED = [
    "deemed-approval",
    "direct-award",
    "market-pricing",
    "national-2025",
    "open-by-default",
    "sme-discount",
    "strict-privacy",
]


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(path: Path) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as info:
        load_policy(path)
    return info.value


def test_the_seven_policies_ship_and_load() -> None:
    assert list_policies() == SHIPPED
    for name in SHIPPED:
        p = load_policy(name)
        assert isinstance(p, Policy)
        assert p.name == name
        assert p.version


def test_alternatives_really_differ_from_national() -> None:
    national = load_policy("national-2025")
    keys = {name: {k for k, _, _ in diff_policies(national, load_policy(name))} for name in SHIPPED}
    assert keys["national-2025"] == set()
    assert "pricing.caps_apply" in keys["market-pricing"]
    assert "routing.open_by_default_grades" in keys["open-by-default"]
    assert "deadlines.holder_published" in keys["open-by-default"]
    assert "pricing.discounts.by_size.micro" in keys["sme-discount"]
    assert {"privacy.k", "privacy.aggregate_only_grades"} <= keys["strict-privacy"]
    assert "deadlines.on_breach" in keys["deemed-approval"]
    assert "selection.direct_award" in keys["direct-award"]


def test_national_encodes_design_defaults() -> None:
    p = load_policy("national-2025")
    assert [x.value for x in p.purposes.free] == ["public_governance", "public_welfare"]
    assert {"industry_development", "sector_development"} <= {x.value for x in p.purposes.paid}
    assert p.pricing.caps_apply and p.pricing.forbid_cap_below_cost
    assert p.allowed_profit_rate == p.mar.treasury_yield + Decimal("0.06")
    assert p.mar.over_mar == "deduct_next_period"
    assert p.registration.validity_years == 3
    assert p.registration.public_notice_working_days == 10
    assert p.authorization.max_term_years == 5
    d = p.deadlines
    assert (d.compliance, d.holder_published, d.holder_unpublished) == (2, 5, 10)
    assert (d.conditional_open, d.conditional_open_extension) == (15, 15)
    assert p.routing.grade_channels.core == []
    assert not p.routing.raw_data_to_market
    assert (p.privacy.k, p.privacy.l) == (5, 2)
    assert p.disclosure.deadline == "03-31"
    assert p.disclosure.publish.use_statements is False


def test_every_key_of_national_has_a_source_note() -> None:
    """Each key line carries a comment, or sits in a block that a comment introduces."""
    lines = (policy_dir() / "national-2025.toml").read_text(encoding="utf-8").splitlines()
    block_noted = False
    in_array = False
    missing = []
    for line in lines:
        s = line.strip()
        if in_array:
            in_array = not s.startswith("]")
            continue
        if not s:
            block_noted = False
            continue
        if s.startswith("#"):
            block_noted = True
            continue
        if s.startswith("["):
            block_noted = "#" in s
            continue
        key = s.split("=", 1)[0].strip()
        if "#" not in s and not block_noted and key not in ("name", "version", "description"):
            missing.append(key)
        if s.endswith("["):
            in_array = True
    assert missing == []


def test_same_file_gives_the_same_object_and_overrides_a_new_one() -> None:
    a = load_policy("national-2025")
    assert load_policy("national-2025") is a
    b = load_policy("national-2025", {"pricing.caps.per_call": "0.45", "deadlines.compliance": 3})
    assert b is not a
    assert b.pricing.caps.per_call == Decimal("0.45")
    assert b.deadlines.compliance == 3
    assert a.pricing.caps.per_call == Decimal("0.50")


def test_bad_override_names_the_key() -> None:
    with pytest.raises(PolicyFileError) as info:
        load_policy("national-2025", {"pricing.caps.per_hour": "1"})
    (problem,) = info.value.problems
    assert problem.key == "pricing.caps.per_hour"
    assert "per_call" in problem.expected  # lists the allowed keys


BASE = 'extends = "national-2025"\nname = "t"\nversion = "1"\n'


@pytest.mark.parametrize(
    ("body", "key", "value", "expected"),
    [
        ('[deadlines]\ncompliance = "two"\n', "deadlines.compliance", "'two'", "integer"),
        ("[privacy]\nkay = 5\n", "privacy.kay", "5", "allowed keys: k, l,"),
        (
            '[pricing.caps]\nper_call = "-0.10"\n',
            "pricing.caps.per_call",
            "'-0.10'",
            "greater than or equal to 0",
        ),
        ('[pricing.caps]\nper_call = "0.01"\n', "pricing.caps.per_call", "'0.01'", "reference cost 0.05"),
        (
            '[purposes]\nfree = ["public_welfare", "leisure"]\n',
            "purposes.free[1]",
            "'leisure'",
            "one of 'public_governance'",
        ),
        ('[deadlines]\non_breach = "ignore"\n', "deadlines.on_breach", "'ignore'", "'deemed_approval'"),
    ],
    ids=["wrong-type", "unknown-key", "negative-price", "cap-below-cost", "unknown-purpose", "bad-breach"],
)
def test_each_problem_names_file_key_value_expected(tmp_path, body, key, value, expected) -> None:
    path = write(tmp_path, BASE + body)
    err = only_problem(path)
    assert len(err.problems) == 1, str(err)
    (problem,) = err.problems
    assert problem.key == key
    assert expected in problem.expected
    line = str(err)
    assert line.startswith(f"{path}: {key}: got {value}; expected ")
    assert expected in line


def test_missing_key_is_named(tmp_path) -> None:
    text = (policy_dir() / "national-2025.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^validity_years = 3.*\n", "", text)
    err = only_problem(write(tmp_path, text))
    (problem,) = err.problems
    assert problem.key == "registration.validity_years"
    assert "missing" in str(err)


def test_cap_below_cost_allowed_when_the_policy_permits_it(tmp_path) -> None:
    p = load_policy(
        write(
            tmp_path, BASE + '[pricing]\nforbid_cap_below_cost = false\n[pricing.caps]\nper_call = "0.01"\n'
        )
    )
    assert p.pricing.caps.per_call == Decimal("0.01")


def test_all_problems_reported_at_once_one_line_each(tmp_path) -> None:
    path = write(
        tmp_path,
        BASE + 'colour = "red"\n[deadlines]\ncompliance = -1\n[pricing]\nholder_share = "1.5"\n'
        '[purposes]\npaid = ["fun"]\n',
    )
    err = only_problem(path)
    keys = {p.key for p in err.problems}
    assert keys == {"colour", "deadlines.compliance", "pricing.holder_share", "purposes.paid[0]"}
    lines = str(err).splitlines()
    assert len(lines) == len(err.problems) == 4
    assert all(ln.startswith(f"{path}: ") and "; expected " in ln for ln in lines)


def test_tiers_that_would_reward_splitting_are_refused(tmp_path) -> None:
    body = (
        '[[pricing.tiers]]\nfrom_volume = 100\nmultiplier = "0.8"\n'
        '[[pricing.tiers]]\nfrom_volume = 50\nmultiplier = "0.9"\n'
    )
    err = only_problem(write(tmp_path, BASE + body))
    assert {p.key for p in err.problems} == {"pricing.tiers[1].from_volume", "pricing.tiers[1].multiplier"}


def test_free_and_paid_must_not_overlap(tmp_path) -> None:
    err = only_problem(
        write(
            tmp_path,
            BASE
            + '[purposes]\npaid = ["public_welfare", "industry_development", "sector_development", '
            + '"research"]\n',
        )
    )
    assert [p.key for p in err.problems] == ["purposes.paid"]


def test_syntax_error_and_missing_file_and_self_extension(tmp_path) -> None:
    err = only_problem(write(tmp_path, "name = \n"))
    assert err.problems[0].key == "(syntax)"
    err = only_problem(tmp_path / "nope.toml")
    assert err.problems[0].key == "(file)"
    with pytest.raises(PolicyFileError) as info:
        load_policy("no-such-policy")
    assert "national-2025" in str(info.value)  # lists what exists
    err = only_problem(write(tmp_path, 'extends = "loop"\nname = "loop"\nversion = "1"\n', "loop.toml"))
    assert err.problems[0].key == "extends"


def test_summary_is_readable() -> None:
    text = "\n".join(policy_summary_lines(policy_summary(load_policy("sme-discount")), "en"))
    assert text.startswith("sme-discount (version")
    assert "micro enterprises 0.50" in text
    assert "free: [public_governance, public_welfare]" in text
