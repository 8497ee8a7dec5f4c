"""A real JupyterLab and Voila in headless Chromium: the tour renders, a request is filed and approved with a
condition through the widgets, and a Voila app renders without error (docs/architecture.md#testing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import (
    chromium,
    chromium_problem,
    error_outputs,
    jupyter_lab,
    open_notebook,
    run_all,
    sandbox_env,
    screenshot,
    voila,
    widget_select,
)
from sqlmodel import select

from marketplace import db
from marketplace.models import AccessRequest, Account, AccountRole, Organization, Resource
from marketplace.vocabulary import Role

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

RESOURCE = "RES-000003"  # general, conditionally open: one review stage by the holder's steward
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    problem = chromium_problem()
    if problem:
        pytest.fail(problem)
    workdir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{workdir / 'sandbox.db'}"
    from marketplace.synth import ensure_seeded

    engine = db.make_engine(url)
    ensure_seeded(engine)
    with db.session_scope(engine) as s:
        res = s.exec(select(Resource).where(Resource.code == RESOURCE)).one()
        requester = s.exec(
            select(Account)
            .join(Organization)
            .join(AccountRole)
            .where(Organization.kind == "research", AccountRole.role == Role.requester)
            .order_by(Account.id)
        ).first()
        steward = s.exec(
            select(Account)
            .join(AccountRole)
            .where(AccountRole.role == Role.steward, Account.organization_id == res.holder_id)
            .order_by(Account.id)
        ).first()
        facts = {
            "resource_label": f"{res.code} — {res.title}",
            "requester_label": f"{requester.display_name} — {requester.organization.name}",
            "steward_label": f"{steward.display_name} — {steward.organization.name}",
        }
    engine.dispose()
    yield {
        "workdir": workdir,
        "url": url,
        "env": sandbox_env(workdir, url),
        "artifacts": workdir / "artifacts",
        **facts,
    }


def _fail(page: Any, world: dict[str, Any], name: str, exc: BaseException, log: str) -> None:
    shot = screenshot(page, world["artifacts"], name)
    pytest.fail(f"{name}: {exc}\nscreenshot: {shot}\nserver log tail:\n{log}", pytrace=True)


def _repository_notebooks() -> dict[Path, bytes]:
    root = Path(__file__).resolve().parents[2] / "notebooks"
    return {p: p.read_bytes() for p in sorted(root.rglob("*.ipynb"))}


def act_as(page: Any, actas: Any, role: str, label: str) -> None:
    """Choose a role, then an account, and wait until the panel says we act as that account.

    Changing the role refills the account list in the kernel, which may still be sending its default choice
    when the browser already shows the new options; so confirm on the "acting as" line and choose again if
    the default arrived after our click (a person clicking does the same).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    actas.scroll_into_view_if_needed()  # JupyterLab may leave a cell far off screen unrendered
    widget_select(actas, "Role").select_option(label=role)
    name = label.split(" — ")[0]
    for _attempt in range(3):
        widget_select(actas, "Account").select_option(label=label)
        try:
            page.wait_for_function(
                "n => document.querySelector('.mp-acting').innerText.includes(n)", arg=name, timeout=15_000
            )
            page.wait_for_timeout(300)
            if name in page.locator(".mp-acting").first.inner_text():
                return
        except PlaywrightTimeout:
            pass  # chosen again; the final wait below raises if it never sticks
    page.wait_for_function(
        "n => document.querySelector('.mp-acting').innerText.includes(n)", arg=name, timeout=15_000
    )


def test_lab_tour_and_request_review_flow(world: dict[str, Any]) -> None:
    committed = _repository_notebooks()
    try:
        _tour_and_flow(world)
    finally:
        assert _repository_notebooks() == committed, "the browser session changed a committed notebook"
        checkpoints = Path(__file__).resolve().parents[2] / "notebooks" / ".ipynb_checkpoints"
        assert not checkpoints.exists(), "JupyterLab wrote checkpoints into the repository"


def _tour_and_flow(world: dict[str, Any]) -> None:
    with jupyter_lab(world["workdir"], world["env"]) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        step = "open 00_start_here"
        try:
            open_notebook(page, server, "notebooks/00_start_here.ipynb")
            step = "run 00_start_here"
            run_all(page)
            toggle = page.locator(".mp-language").first
            toggle.wait_for(state="visible")
            roles = page.locator(".mp-roles").first
            assert "Who does what" in roles.inner_text()
            step = "switch language"
            toggle.get_by_text("中文").click()
            page.wait_for_function(
                "() => document.querySelector('.mp-roles').innerText.includes('角色与职责')"
            )
            toggle.get_by_text("English").click()
            page.wait_for_function(
                "() => document.querySelector('.mp-roles').innerText.includes('Who does what')"
            )
            assert error_outputs(page) == []

            step = "open 02_request_and_review"
            open_notebook(page, server, "notebooks/02_request_and_review.ipynb")
            run_all(page)
            nb = page.locator(".jp-NotebookPanel:visible")
            actas, request, queue = (
                nb.locator(".mp-actas"),
                nb.locator(".mp-request"),
                nb.locator(".mp-review"),
            )
            request.wait_for(state="visible")

            step = "file a request as a requester"
            act_as(page, actas, "requester", world["requester_label"])
            widget_select(request, "Resource").select_option(label=world["resource_label"])
            widget_select(request, "Channel").select_option(label="opening")
            widget_select(request, "Purpose").select_option(label="research")
            request.locator("button:has-text('Submit request')").click()
            feedback = request.locator(".mp-feedback .mp-ok")
            feedback.wait_for(state="visible")
            code = re.search(r"REQ-\d{4}-\d{6}", feedback.inner_text()).group(0)
            status = request.locator(".mp-request-status")
            assert "in review" in status.inner_text()

            step = "approve as the steward with a condition"
            act_as(page, actas, "steward", world["steward_label"])
            item = widget_select(queue, "Item")
            page.wait_for_function(
                "c => [...document.querySelectorAll('.mp-review select option')]"
                ".some(o => o.text.startsWith(c))",
                arg=code,
            )
            queue.scroll_into_view_if_needed()
            label = next(t for t in item.locator("option").all_text_contents() if t.startswith(code))
            item.select_option(label=label)
            widget_select(queue, "Decision").select_option(label="approve with conditions")
            queue.locator(".widget-textarea textarea").fill("deidentify(k>=5, l>=2)")
            queue.locator("button:has-text('Decide')").click()
            decided = queue.locator(".mp-feedback .mp-ok")
            decided.wait_for(state="visible")
            assert code in decided.inner_text()

            step = "see the new status"
            engine = db.make_engine(world["url"])
            with db.session_scope(engine) as s:
                req = s.exec(select(AccessRequest).where(AccessRequest.code == code)).one()
                new_status, conditions = (
                    req.status.value,
                    [c.text for c in req.conditions if c.source == "reviewer"],
                )
            engine.dispose()
            assert new_status in ("approved_with_conditions", "granted", "delivered"), new_status
            assert conditions == ["deidentify(k>=5, l>=2)"]
            shown = {"approved_with_conditions": "approved with conditions"}.get(new_status, new_status)
            page.wait_for_function(
                "s => document.querySelector('.mp-request-status').textContent.includes('Status: ' + s)",
                arg=shown,
            )
            assert shown in decided.inner_text()
            assert error_outputs(page) == []
        except Exception as exc:
            _fail(page, world, step.replace(" ", "_"), exc, server.log_tail())


@pytest.mark.parametrize("app", ["catalog", "request_and_review"])
def test_voila_renders_an_app(world: dict[str, Any], app: str) -> None:
    with (
        voila(world["workdir"], world["env"], f"notebooks/apps/{app}.ipynb") as server,
        chromium() as browser,
    ):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(server.url("/"), timeout=120_000)
            page.locator(".mp-app").first.wait_for(state="visible", timeout=120_000)
            page.wait_for_timeout(500)
            text = page.locator("body").inner_text()
            assert "Traceback" not in text
            assert not [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "Error" in t]
            assert (
                page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
                == 0
            )
            assert page.locator(".mp-language").count() == 1
        except Exception as exc:
            _fail(page, world, f"voila_{app}", exc, server.log_tail())
