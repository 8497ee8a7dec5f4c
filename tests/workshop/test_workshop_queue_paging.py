"""A participant pages through their review queue by key: `review_queue(after=<last review id>)`."""

from __future__ import annotations

import pytest

from marketplace.errors import InvalidInput
from marketplace.workshop import join


def test_the_registrar_seat_pages_the_queue_by_the_last_review_id(workshop) -> None:
    dep = join(workshop.seat("department", 0).join_code, workshop.engine)
    registrar = join(workshop.seat("registrar").join_code, workshop.engine)
    shared = [c for c in dep.catalog() if "sharing" in c["channels"]][:5]
    for res in shared:
        dep.file_request(purpose="public_governance", resource=res["code"], channel="sharing")
    whole = [q["review_id"] for q in registrar.review_queue()]
    assert len(whole) >= 3  # one compliance stage per request the registrar reviews
    first = registrar.review_queue(limit=2)
    registrar.decide(first[0]["review_id"], "approve")  # decided between pages: the next page is unchanged
    pages, after = [q["review_id"] for q in first], first[-1]["review_id"]
    while batch := registrar.review_queue(limit=2, after=after):
        pages += [q["review_id"] for q in batch]
        after = batch[-1]["review_id"]
    assert pages == whole
    for bad in (0, "7", True):
        with pytest.raises(InvalidInput, match="after"):
            registrar.review_queue(after=bad)
    with pytest.raises(InvalidInput, match="after"):
        registrar.review_queue(after=10**9)  # no such review
