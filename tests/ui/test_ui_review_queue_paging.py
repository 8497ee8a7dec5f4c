"""The review queue panel pages by key: forward and back through a queue larger than the count's cap, rows
decided under it, and the capped size worded in both languages."""

from __future__ import annotations

from queuefill import add_pending, decide_directly, queue_parties

from marketplace.ui import i18n, review
from marketplace.ui.context import Sandbox
from marketplace.workflows.reviews import QUEUE_COUNT_CAP


def test_a_queue_above_the_cap_pages_forward_and_back(sandbox: Sandbox) -> None:
    parties = queue_parties(sandbox.engine)
    ids = add_pending(sandbox.engine, parties, QUEUE_COUNT_CAP + 60, seed=11, days=30)
    sandbox.account_id = parties.steward_id
    queue = review.ReviewQueue(sandbox, page_size=50)
    assert queue.total == QUEUE_COUNT_CAP and queue.total_capped
    assert "Page 1 · more than 1,000 items" in queue.page_label.value
    first = [r["review_id"] for r in queue.rows]
    queue.next_button.click()
    second = [r["review_id"] for r in queue.rows]
    assert len(second) == 50 and not set(first) & set(second) and "Page 2" in queue.page_label.value
    decide_directly(sandbox.engine, first)  # decided elsewhere while page 2 is on screen
    queue.refresh_button.click()
    assert [r["review_id"] for r in queue.rows] == second  # the page does not shift under the reader
    queue.prev_button.click()
    assert queue.page == 0 and not set(first) & {r["review_id"] for r in queue.rows}
    i18n.set_language("zh")
    assert "第 1 页 · 超过 1,000 项" in queue.page_label.value
    assert len(ids) == QUEUE_COUNT_CAP + 60


def test_the_last_page_disables_next_and_an_emptied_page_steps_back(sandbox: Sandbox) -> None:
    parties = queue_parties(sandbox.engine)
    sandbox.account_id = parties.steward_id
    queue = review.ReviewQueue(sandbox, page_size=4)
    before = queue.total
    ids = add_pending(sandbox.engine, parties, 6, seed=12, days=1)
    queue.refresh_button.click()
    assert queue.total == before + 6 and not queue.total_capped
    while not queue.next_button.disabled:
        queue.next_button.click()
    last = [r["review_id"] for r in queue.rows]
    assert last and set(last) <= set(ids) | set(last)
    page = queue.page
    decide_directly(sandbox.engine, last)
    queue.refresh_button.click()
    assert queue.page == page - 1 and queue.next_button.disabled
