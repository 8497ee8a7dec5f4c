"""Exercises are data with English and Chinese text and a completion check that the workshop evaluates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketplace.errors import PolicyRefusal
from marketplace.workshop import join, load_exercises
from marketplace.workshop.exercises import ExerciseFileError, exercise_dir, load_exercise_file

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_exercise_loads_in_english_and_chinese() -> None:
    exercises = load_exercises()
    assert len(exercises) == 9
    assert [e.id[:3] for e in exercises] == [f"{n:02d}-" for n in range(1, 10)]
    assert [e.order for e in exercises] == sorted(e.order for e in exercises)
    assert {p.stem for p in exercise_dir().glob("*.toml")} == {e.id for e in exercises}
    for ex in exercises:
        for lang in ("en", "zh"):
            title, text = ex.text(lang)
            assert title.strip() and len(text) > 40
        assert CJK.search(ex.title.zh) and CJK.search(ex.instructions.zh)
        assert not CJK.search(ex.instructions.en)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("order = 1", "title"),
        (
            'order = 1\n[title]\nen = "t"\nzh = "标"\n[instructions]\nen = "i"\nzh = "说"\n'
            '[check]\nsource = "table"\ntable = "nosuchtable"\nactor_column = "x"',
            "nosuchtable",
        ),
        (
            'order = 1\n[title]\nen = "t"\nzh = "标"\n[instructions]\nen = "i"\nzh = "说"\n'
            '[check]\nsource = "table"\ntable = "accessrequest"\nactor_column = "requester_id"\n'
            "where = {colour = 1}",
            "colour",
        ),
        (
            'order = 1\n[title]\nen = "t"\nzh = "标"\n[instructions]\nen = "i"\nzh = "说"\n'
            '[check]\nsource = "table"\ntable = "accessrequest"\nactor_column = "requester_id"\n'
            'present = ["list_entry"]',
            "list_entry",
        ),
        (
            'order = 1\ngroups = ["deparment"]\n[title]\nen = "t"\nzh = "标"\n[instructions]\nen = "i"\n'
            'zh = "说"\n[check]\nsource = "audit"\nactions = ["x"]',
            "deparment",
        ),
        (
            'order = 1\n[title]\nen = "t"\n[instructions]\nen = "i"\nzh = "说"\n[check]\nsource = "audit"\n'
            'actions = ["x"]',
            "zh",
        ),
    ],
)
def test_a_bad_exercise_file_names_the_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "99-bad.toml"
    path.write_text(f'id = "99-bad"\n{body}\n', encoding="utf-8")
    with pytest.raises(ExerciseFileError) as err:
        load_exercise_file(path)
    assert "99-bad.toml" in str(err.value) and expected in str(err.value)


def _done(session, exercise_id: str) -> bool:
    return {e["id"]: e["done"] for e in session.exercises()}[exercise_id]


def test_completion_checks_follow_what_participants_do(workshop) -> None:
    fac, eng = workshop.fac, workshop.engine
    for _ in load_exercises():
        fac.release_next()
    assert fac.release_next() is None
    ent = join(workshop.seat("enterprise").join_code, eng)
    dep = join(workshop.seat("department").join_code, eng)
    registrar = join(workshop.seat("registrar").join_code, eng)
    operator = join(workshop.seat("operator").join_code, eng)
    assert {e["id"] for e in ent.exercises()} == {
        "01-first-request",
        "03-accept-a-quote",
        "04-free-for-public-welfare",
    }
    assert not any(e["done"] for e in ent.exercises())
    assert {e["id"] for e in ent.exercises("zh")} == {e["id"] for e in ent.exercises()}
    assert CJK.search(ent.exercises("zh")[0]["title"])

    product = next(c for c in ent.catalog() if c["kind"] == "product")
    paid = ent.file_request(purpose="industry_development", product=product["code"], volume=100)
    assert _done(ent, "01-first-request") and not _done(ent, "03-accept-a-quote")
    ent.accept_quote(paid.subject_id)
    assert _done(ent, "03-accept-a-quote") and not _done(ent, "04-free-for-public-welfare")
    with pytest.raises(PolicyRefusal) as bare:  # a bare claim is refused, naming the rule
        ent.file_request(purpose="public_welfare", product=product["code"], volume=100)
    assert bare.value.rule == "free_use.statement" and not _done(ent, "04-free-for-public-welfare")
    sponsor = next(c["holder_id"] for c in ent.catalog() if c["kind"] == "resource" and c["holder_id"] != -1)
    free = ent.file_request(
        purpose="public_welfare",
        product=product["code"],
        volume=100,
        use_statement="Bus access maps for the city's public-health outreach to elderly residents",
        project_reference="PHP-2025-017",
        sponsor=sponsor,
    )
    assert free.result["quote_total"] == "0.00" and _done(ent, "04-free-for-public-welfare")

    resource = next(c for c in dep.catalog() if "sharing" in c["channels"] and c["holder_id"] != -1)
    dep.file_request(purpose="public_governance", resource=resource["code"], channel="sharing")
    assert not _done(registrar, "02-review-a-request")
    queue = registrar.review_queue()
    assert queue and all(q["stage"] == "compliance" for q in queue)
    registrar.decide(queue[0]["review_id"], "approve")
    assert _done(registrar, "02-review-a-request") and not _done(registrar, "06-meet-the-deadline")

    mine = [p for p in operator.my_products() if p["status"] == "registered"]
    assert not _done(operator, "05-price-a-product")
    operator.set_price(mine[0]["code"], "100.00")
    assert _done(operator, "05-price-a-product")

    board = fac.dashboard()
    done = board.exercises.set_index("exercise")["done"].to_dict()
    assert (
        done["01-first-request"] == 2 and done["03-accept-a-quote"] == 1 and done["05-price-a-product"] == 1
    )
    row = board.completion.set_index("account_id").loc[ent.account_id]
    assert row["01-first-request"] is True and row["02-review-a-request"] is None


def test_list_and_selection_exercises_follow_what_participants_do(workshop) -> None:
    """07: a department cites a list (an enterprise never sees the exercise); 08: an operator applies;
    09: the implementing institution's steward decides the round (stewards elsewhere cannot)."""
    fac, eng = workshop.fac, workshop.engine
    for _ in load_exercises():
        fac.release_next()
    dep = join(workshop.seat("department").join_code, eng)
    ent = join(workshop.seat("enterprise").join_code, eng)
    operator = join(workshop.seat("operator").join_code, eng)
    stewards = [join(workshop.seat("steward", n).join_code, eng) for n in range(2)]
    assert "07-share-through-your-list" in {e["id"] for e in dep.exercises()}
    assert "07-share-through-your-list" not in {e["id"] for e in ent.exercises()}
    assert "08-apply-to-a-selection-round" in {e["id"] for e in operator.exercises()}
    assert all("09-score-and-decide-a-round" in {e["id"] for e in s.exercises()} for s in stewards)

    resource = next(c for c in dep.catalog() if "sharing" in c["channels"] and c["holder_id"] != -1)
    dep.file_request(purpose="public_governance", resource=resource["code"], channel="sharing")
    assert not _done(dep, "07-share-through-your-list")  # a request that cites no list does not count
    entry = dep.citable_entries()[0]
    dep.file_request(
        purpose="public_governance", resource=entry["resource"], channel="sharing", list_entry=entry["code"]
    )
    assert _done(dep, "07-share-through-your-list")

    code = operator.selection_rounds()[0]["code"]
    assert not _done(operator, "08-apply-to-a-selection-round")
    operator.apply_for_selection(code, security_level=3, registered_capital="20000000")
    assert _done(operator, "08-apply-to-a-selection-round")

    runner = next(s for s in stewards if s.selection_rounds()[0]["run_by_my_organization"])
    app_id = runner.selection_rounds()[0]["applications"][0]["id"]
    criteria = runner.selection_rounds()[0]["criteria"]
    runner.score_application(app_id, dict.fromkeys(criteria, 70))
    assert not _done(runner, "09-score-and-decide-a-round")  # scored, not yet decided
    runner.decide_selection(code)
    assert _done(runner, "09-score-and-decide-a-round")

    board = fac.dashboard()
    ex = board.exercises.set_index("exercise")
    assert tuple(ex.loc["07-share-through-your-list", ["done", "of"]]) == (1, 2)  # the two departments
    assert ex.loc["08-apply-to-a-selection-round", "done"] == 1
    assert tuple(ex.loc["09-score-and-decide-a-round", ["done", "of"]]) == (1, 2)  # the two stewards
    row = board.completion.set_index("account_id").loc[ent.account_id]
    assert row["07-share-through-your-list"] is None and row["01-first-request"] is False
