"""Conditions are enforced at delivery; personal data never leaves without its de-identification."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, PrivacyError, TransitionError
from marketplace.models import AccessRequest, Delivery, Product
from marketplace.vocabulary import DeliveryKind, Grade, OrganizationKind, RequestStatus, Role
from marketplace.workflows.delivery import checksum_of


def _conditional_open(world, conditions):
    with world.step() as s:
        res = world.resource(
            s,
            lambda r: (
                r.opening_attribute.value == "conditional"
                and r.contains_personal_info
                and r.grade is Grade.general
            ),
        )
        rsr = world.requester(s, OrganizationKind.research)
        req = wf.create_request(s, rsr, resource=res, channel="opening", purpose="research")
        wf.submit_request(s, rsr, req)
        rid = req.id
    world.approve_all(rid, {"holder": conditions} if conditions else None)
    return rid


def test_fields_condition_restricts_columns(world):
    rid = _conditional_open(world, [])
    with world.step() as s:
        res = s.get(AccessRequest, rid).resource
        keep = [f.name for f in res.fields if f.marking.value in ("quasi_identifier", "sensitive")]
    rid2 = _conditional_open(world, [f"fields(only=[{', '.join(keep)}])"])
    with world.step() as s:
        req = s.get(AccessRequest, rid2)
        d = wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=300, seed=4)
        assert set(d.delivery.columns) <= set(keep)
        assert req.grant.terms["permission"][0]["constraint"][-1]["rightOperand"] == keep


def test_deidentification_threshold_from_reviewer_is_met(world):
    rid = _conditional_open(world, ["deidentify(k>=12, l>=2)"])
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        d = wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=600, seed=5)
        assert d.report["k_achieved"] >= 12 and d.report["l_achieved"] >= 2
        sizes = d.table.groupby(d.report["quasi_identifiers"], dropna=False).size()
        assert sizes.min() >= 12


def test_impossible_deidentification_is_refused_and_nothing_is_released(world):
    rid = _conditional_open(world, ["deidentify(k>=50, l>=2)"])
    with pytest.raises(PrivacyError), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=30, seed=6)
    assert world.count(Delivery) == 0
    assert world.refused_events("request.deliver")


def test_without_the_privacy_package_personal_data_is_refused(world, monkeypatch):
    rid = _conditional_open(world, [])
    monkeypatch.setitem(sys.modules, "marketplace.privacy", None)  # import fails
    with pytest.raises(PrivacyError) as exc, world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=100)
    assert "nothing was released" in str(exc.value)
    assert world.count(Delivery) == 0
    with world.step() as s:
        assert s.get(AccessRequest, rid).status is RequestStatus.granted


def test_aggregated_product_releases_cells_of_at_least_min_cell(world):
    with world.step() as s:
        prod = next(
            p
            for p in s.exec(select(Product).order_by(Product.id)).all()
            if p.transformation == "aggregated" and p.status.value == "listed"
        )
        npo = world.requester(s, OrganizationKind.nonprofit)
        req = wf.create_request(s, npo, product=prod, purpose="public_welfare",
                                use_statement="Bus access maps for elderly residents in a health programme")
        wf.submit_request(s, npo, req)
        rid = req.id
        assert any(c.kind.value == "aggregate" for c in req.conditions)
    world.approve_all(rid)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        d = wf.deliver(s, world.role(s, Role.operator, req.product.operator_id), req, rows=800, seed=7)
        assert d.delivery.kind is DeliveryKind.aggregate
        min_cell = d.report["min_cell"]
        assert min_cell >= 10 and (d.table["count"] >= min_cell).all()


def test_only_the_supplier_delivers(world):
    rid = _conditional_open(world, [])
    with pytest.raises(PermissionDenied), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, req.requester, req, rows=10)


def test_delivery_after_grant_end_date_is_refused(world):
    rid = _conditional_open(world, ["expires_after(days=30)"])
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        assert (req.grant.valid_until - req.grant.valid_from).days == 30
        g_id, holder = req.grant.id, req.resource.holder_id
    with world.step() as s:
        # move the clock without processing (as if no one advanced it through the workflows)
        from marketplace.workflows.clock import ClockState, clock_state, store

        st = clock_state(s)
        store(s, ClockState(st.start, st.offset_days + 31, st.paused, st.anchor))
    with pytest.raises(TransitionError) as exc, world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.steward, holder), req, rows=50)
    assert "expired" in str(exc.value) and g_id


def test_caller_supplied_frame_is_used(world):
    rid = world.conditional_sharing()
    world.approve_all(rid)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        cols = [f.name for f in req.resource.fields if f.marking.value == "other"][:2]
        frame = pd.DataFrame({c: range(7) for c in cols})
        d = wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, frame=frame)
        assert d.delivery.row_count == 7 and d.delivery.columns == cols
        assert d.delivery.checksum == checksum_of(d.table) == checksum_of(frame[cols].copy())


def test_checksum_names_exactly_the_released_table():
    base = pd.DataFrame(
        {
            "district": pd.Series(["东城", "West", None], dtype="str"),
            "age": [31, 47, 52],
            "fare": [2.5, 3.0, float("nan")],
            "day": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"]),
            "flag": [True, False, True],
        }
    )
    same = checksum_of(base)
    assert same == checksum_of(base.copy()) and len(same) == 64
    changed = {
        "value": base.assign(age=[31, 47, 53]),
        "missing value": base.assign(district=pd.Series(["东城", "West", "None"], dtype="str")),
        "row order": base.iloc[[1, 0, 2]].reset_index(drop=True),
        "column order": base[["age", "district", "fare", "day", "flag"]],
        "column name": base.rename(columns={"age": "years"}),
        "type": base.assign(age=[31.0, 47.0, 52.0]),
        "time": base.assign(day=base["day"] + pd.Timedelta(seconds=1)),
        "one row fewer": base.iloc[:2],
        "value moved to the next column": pd.DataFrame({"a": ["x,y"], "b": [""]}),
    }
    digests = {name: checksum_of(frame) for name, frame in changed.items()}
    digests["value moved back"] = checksum_of(pd.DataFrame({"a": ["x"], "b": [",y"]}))
    assert same not in digests.values()
    assert len(set(digests.values())) == len(digests)  # every change gives another fingerprint


def _every_dtype() -> pd.DataFrame:
    day = pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"])
    return pd.DataFrame(
        {
            "district": pd.Series(["东城", "West", None], dtype="str"),
            "age": [31, 47, 52],
            "fare": [2.5, 3.0, float("nan")],
            "day": day,
            "flag": [True, False, True],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "cat": pd.Categorical(["a", "b", "a"]),
            "tz": day.tz_localize("Asia/Shanghai"),
            "obj": pd.Series([{"x": 1}, None, [1, 2]], dtype=object),
        }
    )


def test_checksum_covers_every_dtype_and_keeps_its_recorded_format():
    """Every column type hashes (as `Series.to_numpy()` gives it); recorded fingerprints keep their format."""
    frame = _every_dtype()
    assert len(checksum_of(frame)) == 64
    assert checksum_of(frame) == checksum_of(frame.copy())
    # the fingerprint of a table as released deliveries recorded it (the format is part of the record; this
    # table reads the same under pandas 2 and 3)
    plain = pd.DataFrame(
        {
            "district": ["东城", "West", "x"],
            "age": [31, 47, 52],
            "fare": [2.5, 3.0, float("nan")],
            "flag": [True, False, True],
        }
    )
    assert checksum_of(plain) == "b6ce9bb843cf6fa6e29080c85e7ecbfa3984ac157c9bd7e0198dd0d24d74ac45"
