"""The participant panel shows the review queue a page at a time (by key, as the review panel does): previous
and next driven through their buttons on a queue longer than a page, rows decided under the reader, the page
label in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from queuefill import QueueParties, add_pending, decide_directly
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace import db
from marketplace.models import Account, AccountRole, Resource
from marketplace.ui import i18n
from marketplace.ui.workshop import ParticipantPanel, participant_panel
from marketplace.workshop import bootstrap_trainer, facilitate
from marketplace.workshop.practice import build_practice_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'workshop.db'}")
    yield eng
    eng.dispose()
    i18n.set_language("en")


def _steward_panel(engine: Engine, page_size: int) -> tuple[ParticipantPanel, QueueParties]:
    """A steward seat's panel, and who files into its organization's queue."""
    build_practice_world(engine, seed=0)
    fac = facilitate(bootstrap_trainer(engine).join_code, engine)
    seats = fac.create_participants("steward=1,enterprise=1", participants=2, seed=0)
    steward = next(s for s in seats if s.group == "steward")
    code = steward.join_code
    first = participant_panel(code, engine)  # the panel as built for the seat, with its default page size
    first.close()
    panel = ParticipantPanel(first.session, queue_page_size=page_size)
    with Session(engine) as s:
        org = s.get(Account, panel.session.account_id).organization_id
        res = s.exec(select(Resource).where(Resource.holder_id == org).order_by(Resource.id)).first()
        requester = s.exec(
            select(Account).join(AccountRole).where(AccountRole.role == "requester")
            .where(Account.organization_id != org).order_by(Account.id)
        ).first()
        parties = QueueParties(res.id, org, requester.id, requester.organization_id, panel.session.account_id)
    return panel, parties


def _shown(panel: ParticipantPanel) -> list[int]:
    return [value for _text, value in panel.review_pick.options]


def test_the_participant_queue_pages_forward_and_back(engine: Engine) -> None:
    panel, parties = _steward_panel(engine, page_size=5)
    before = panel.session.review_queue(limit=1000)
    ids = add_pending(engine, parties, 12, seed=3, days=10)
    panel.refresh()
    assert len(_shown(panel)) == 5 and panel.queue_prev.disabled and not panel.queue_next.disabled
    assert panel.queue_page_label.value == "Page 1 · 5 on this page"
    seen = [_shown(panel)]
    while not panel.queue_next.disabled:
        panel.queue_next.click()
        seen.append(_shown(panel))
    flat = [i for page in seen for i in page]
    assert len(flat) == len(set(flat)) == len(before) + 12 and set(ids) <= set(flat)
    assert len(seen) == -(-len(flat) // 5) and f"Page {len(seen)}" in panel.queue_page_label.value
    assert not panel.queue_prev.disabled
    panel.queue_prev.click()
    assert _shown(panel) == seen[-2] and panel.queue_page == len(seen) - 2
    i18n.set_language("zh")
    assert panel.queue_page_label.value == f"第 {len(seen) - 1} 页 · 本页 5 项"
    assert panel.queue_prev.description == "◀ 上一页" and panel.queue_next.description == "下一页 ▶"
    i18n.set_language("en")
    while not panel.queue_prev.disabled:
        panel.queue_prev.click()
    assert _shown(panel) == seen[0] and panel.queue_page == 0
    panel.close()


def test_a_page_decided_under_the_reader_steps_back(engine: Engine) -> None:
    panel, parties = _steward_panel(engine, page_size=4)
    add_pending(engine, parties, 9, seed=4, days=3)
    panel.refresh()
    while not panel.queue_next.disabled:
        panel.queue_next.click()
    last_page = panel.queue_page
    assert last_page >= 2
    decide_directly(engine, _shown(panel))  # decided elsewhere while the last page is on screen
    panel.refresh()
    assert panel.queue_page == last_page - 1 and panel.queue_next.disabled and len(_shown(panel)) == 4
    panel.close()
