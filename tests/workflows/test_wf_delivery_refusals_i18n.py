"""Delivery and usage-report refusals by the grant's state (missing, expired, revoked, a report overdue) are
worded from a message key, so a Chinese session reads them in Chinese, not in the lifecycle's English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from marketplace import workflows as wf
from marketplace.errors import TransitionError
from marketplace.i18n import error_text
from marketplace.models import AccessRequest, Grant
from marketplace.vocabulary import Grade, GrantStatus, OrganizationKind, Role
from marketplace.workflows import clock

CODES_AND_DATES = re.compile(r"[A-Z]+(?:-[A-Za-z0-9]+)+|\d{4}-\d{2}-\d{2}")


def latin_words(text: str) -> list[str]:
    """Latin words left once codes and dates are taken out: none may remain in a Chinese sentence."""
    return re.findall(r"[A-Za-z_]{2,}", CODES_AND_DATES.sub("", text))


def _granted(world, conditions: list[str]) -> int:
    with world.step() as s:
        res = world.resource(
            s, lambda r: r.opening_attribute.value == "conditional" and r.grade is Grade.general
        )
        rsr = world.requester(s, OrganizationKind.research)
        req = wf.create_request(s, rsr, resource=res, channel="opening", purpose="research")
        wf.submit_request(s, rsr, req)
        rid = req.id
    world.approve_all(rid, {"holder": conditions})
    return rid


def _refused_delivery(world, rid: int) -> TransitionError:
    with pytest.raises(TransitionError) as exc, world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=10)
    return exc.value


def _change_grant(world, rid: int, **values) -> None:
    with world.step() as s:
        grant = s.get(AccessRequest, rid).grant
        for name, value in values.items():
            setattr(grant, name, value)
        s.add(grant)


def _check(exc: TransitionError, english: str, chinese: str) -> None:
    zh = error_text(exc, "zh")
    assert chinese in zh and not latin_words(zh), zh
    assert english in error_text(exc, "en")


def test_an_overdue_usage_report_is_worded_in_chinese(world):
    rid = _granted(world, ["report_usage(days=30)"])
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 31)
    exc = _refused_delivery(world, rid)
    assert "usage report overdue since" in str(exc)  # the lifecycle's own sentence stays as it was
    _check(exc, "is overdue since", "逾期")


def test_an_expired_grant_is_worded_in_chinese(world):
    rid = _granted(world, [])
    with world.step() as s:
        today = clock.today(s)
    _change_grant(world, rid, valid_until=today - timedelta(days=1))
    exc = _refused_delivery(world, rid)
    _check(exc, "ran until", "有效期至")


def test_a_revoked_grant_is_worded_in_chinese(world):
    rid = _granted(world, [])
    _change_grant(world, rid, status=GrantStatus.revoked)
    exc = _refused_delivery(world, rid)
    _check(exc, "is revoked", "已撤销")


def test_a_missing_grant_is_worded_in_chinese(world):
    rid = _granted(world, [])
    with world.step() as s:
        grant = s.get(AccessRequest, rid).grant
        s.delete(s.get(Grant, grant.id))
    exc = _refused_delivery(world, rid)
    _check(exc, "has no grant", "没有许可")


def test_usage_report_refusals_are_worded_in_chinese(world):
    rid = _granted(world, [])
    with pytest.raises(TransitionError) as exc, world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.report_usage(s, req.requester, req, "Used for a study.")
    _check(exc.value, "asks for no usage report", "不要求使用情况报告")
