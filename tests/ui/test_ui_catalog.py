"""The catalog panel's search and paging, driven through its controls (same rule as `catalog search`)."""

from __future__ import annotations

from sqlmodel import select

from marketplace.models import ProductResource, Resource
from marketplace.ui import catalog, i18n
from marketplace.ui.context import Sandbox
from marketplace.workflows.catalog_view import resource_card, search_resources


def test_search_box_finds_by_title_description_and_field_name(sandbox: Sandbox) -> None:
    browser = catalog.catalog_browser(sandbox)
    total = len(browser.rows)
    browser.search.value = "PATIENT"  # any case; a field name (patient_name)
    codes = {r["code"] for r in browser.shown}
    with sandbox.session() as s:
        want = {r["code"] for r in search_resources(s, "patient", limit=500).rows}
        assert want and codes == want
        with_field = {
            r.code for r in s.exec(select(Resource)).all() if any("patient" in f.name for f in r.fields)
        }
    assert with_field <= codes
    assert f"{len(codes)} of {total}" in browser.count.value
    browser.find("no such words anywhere")
    assert browser.shown == [] and browser.listing.options == () and f"0 of {total}" in browser.count.value
    browser.find("")
    assert len(browser.shown) == total


def test_search_combines_with_filters(sandbox: Sandbox) -> None:
    browser = catalog.catalog_browser(sandbox)
    browser.find("Capitol")
    everything = list(browser.shown)
    core = browser.filter(grade="core")
    assert core and len(core) < len(everything) and all(r["grade"] == "core" for r in core)


def test_paging_walks_every_resource_once(sandbox: Sandbox) -> None:
    browser = catalog.catalog_browser(sandbox)
    total = len(browser.shown)
    assert total > catalog.PAGE_SIZE
    pages = -(-total // catalog.PAGE_SIZE)
    assert browser.previous_button.disabled and not browser.next_button.disabled
    assert f"Page 1 of {pages}" in browser.page_label.value
    seen = [v for _, v in browser.listing.options]
    for _ in range(pages - 1):
        browser.next_button.click()
        seen += [v for _, v in browser.listing.options]
    assert browser.next_button.disabled and f"Page {pages} of {pages}" in browser.page_label.value
    assert sorted(seen) == sorted(r["id"] for r in browser.shown) and len(seen) == total
    browser.next_button.click()  # stays on the last page
    assert f"Page {pages} of {pages}" in browser.page_label.value
    browser.previous_button.click()
    assert f"Page {pages - 1} of {pages}" in browser.page_label.value
    i18n.set_language("zh")
    assert f"第 {pages - 1} / {pages} 页" in browser.page_label.value
    assert browser.search.description == "搜索"
    i18n.set_language("en")


def test_detail_shows_the_card_with_products(sandbox: Sandbox) -> None:
    with sandbox.session() as s:
        link = s.exec(select(ProductResource)).first()
        resource = s.get(Resource, link.resource_id)
        code, rid = resource.code, resource.id
    browser = catalog.catalog_browser(sandbox)
    browser.find(code)
    assert [r["code"] for r in browser.shown] == [code]
    browser.listing.value = rid
    assert "Products made from it" in browser.detail.value and "PRD-" in browser.detail.value
    with sandbox.session() as s:
        card = resource_card(s, code)
    for f in card.fields:  # every field with its role, in words
        assert f"<td>{f['name']}</td>" in browser.detail.value
        assert f"<td>{i18n.label(f['role'])}</td>" in browser.detail.value
