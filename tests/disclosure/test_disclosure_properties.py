"""Properties of the request statistics and of the access-rights mapping, on generated inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from marketplace.disclosure import build_report
from marketplace.disclosure.importer import _access
from marketplace.disclosure.mappings import access_right_of
from marketplace.models import AccessRequest, Account, Organization
from marketplace.vocabulary import (
    Channel,
    OpeningAttribute,
    OrganizationKind,
    Purpose,
    RequestStatus,
    SharingAttribute,
)

KINDS = [OrganizationKind.department, OrganizationKind.enterprise, OrganizationKind.research]
REQUEST = st.tuples(
    st.integers(0, len(KINDS) - 1),
    st.sampled_from(list(Channel)),
    st.sampled_from([s for s in RequestStatus if s not in (RequestStatus.draft,)]),
    st.integers(0, 364),  # day of the year submitted
    st.integers(0, 60),  # days to decision
)


@settings(max_examples=25, deadline=None)
@given(st.lists(REQUEST, min_size=1, max_size=30))
def test_request_statistics_add_up(requests: list[tuple[int, Channel, RequestStatus, int, int]]) -> None:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        accounts = []
        for i, kind in enumerate(KINDS):
            org = Organization(code=f"O{i}", name=f"Org {i}", kind=kind)
            session.add(org)
            session.flush()
            acc = Account(username=f"u{i}", display_name=f"U {i}", organization_id=org.id)
            session.add(acc)
            session.flush()
            accounts.append(acc)
        for n, (who, channel, status, day, wait) in enumerate(requests):
            submitted = datetime(2025, 1, 1, 8, tzinfo=UTC) + timedelta(days=day)
            decided = (
                submitted + timedelta(days=wait)
                if status
                not in (
                    RequestStatus.submitted,
                    RequestStatus.in_review,
                    RequestStatus.returned,
                    RequestStatus.withdrawn,
                )
                else None
            )
            session.add(
                AccessRequest(
                    code=f"R{n}",
                    requester_id=accounts[who].id,
                    requester_org_id=accounts[who].organization_id,
                    channel=channel,
                    purpose=Purpose.research,
                    status=status,
                    submitted_at=submitted,
                    decided_at=decided,
                )
            )
        session.commit()
        stats = build_report(session, 2025).requests
    per_kind = stats[stats["requester_kind"] != "all"]
    totals = stats[stats["requester_kind"] == "all"].set_index("channel")
    assert int(totals["filed"].sum()) == len(requests)
    assert (
        stats["filed"] == stats["approved"] + stats["rejected"] + stats["withdrawn"] + stats["pending"]
    ).all()
    summed = per_kind.groupby("channel")[["filed", "approved", "rejected", "withdrawn", "pending"]].sum()
    pd.testing.assert_frame_equal(summed, totals[summed.columns], check_names=False)
    timed = stats.dropna(subset=["median_days"])
    assert (timed["p90_days"] >= timed["median_days"]).all()
    assert ((timed["median_days"] >= 0) & (timed["p90_days"] <= 60)).all()


@given(st.sampled_from(list(SharingAttribute)), st.sampled_from(list(OpeningAttribute)))
def test_opening_attribute_survives_export_and_import(
    sharing: SharingAttribute, opening: OpeningAttribute
) -> None:
    _, imported_opening, _ = _access(
        "http://publications.europa.eu/resource/authority/access-right/" + access_right_of(sharing, opening)
    )
    assert imported_opening == opening
