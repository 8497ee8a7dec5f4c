"""Every notebook (tour and apps) executed top to bottom in a real kernel, then driven by appended cells.

The appended cells act like a user (set widget values, click buttons) and assert on panel state and database
rows. A widget callback that raises inside a kernel prints a traceback into the cell instead of failing it, so
every cell's outputs are also checked for errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

COMMON = """
import sqlalchemy as sa
from sqlmodel import select
from marketplace.ui.context import default_sandbox
from marketplace.models import AccessRequest, Account, AccountRole, Organization, Resource, Condition
from marketplace.vocabulary import Role
sb = default_sandbox()
def user(role, org_id=None, kind=None):
    with sb.session() as s:
        q = select(Account.username).join(AccountRole).join(Organization).where(AccountRole.role == role)
        if org_id is not None:
            q = q.where(Account.organization_id == org_id)
        if kind is not None:
            q = q.where(Organization.kind == kind)
        return s.exec(q.order_by(Account.id)).first()
def resource(code):
    with sb.session() as s:
        r = s.exec(select(Resource).where(Resource.code == code)).one()
        return r.id, r.holder_id
"""

CHECKS: dict[str, list[str]] = {
    "00_start_here.ipynb": [
        """
assert tour.panels == {}
panels = [tour.open_step(i) for i in range(5)]
assert [type(p).__name__ for p in panels] == ["ActAs", "CatalogBrowser", "RequestPanel", "ReviewQueue",
                                              "DisclosurePanel"]
assert sb.account_id is not None
from marketplace.ui import i18n
i18n.set_language("zh")
assert tour.accordion.get_title(0) == "1. 选择您的身份", tour.accordion.get_title(0)
assert panels[2].submit_button.description == "提交申请"
i18n.set_language("en")
assert panels[2].submit_button.description == "Submit request"
""",
    ],
    "01_catalog_and_registration.ipynb": [
        """
shown = catalog.filter(grade="important")
assert shown and all(r["grade"] == "important" for r in shown)
catalog.listing.value = shown[0]["id"]
assert shown[0]["code"] in catalog.detail.value and "<table" in catalog.sample.value
rid, holder = resource("RES-000004")
who.choose("steward", user(Role.steward, holder))
registration.subject.value = f"resource:{rid}"
registration.apply_button.click()
assert registration.feedback.kind == "ok", registration.feedback.text
from marketplace.models import Registration
with sb.session() as s:
    regs = s.exec(select(Registration).where(Registration.resource_id == rid)).all()
assert any(r.status == "submitted" for r in regs), [r.status for r in regs]
who.choose("registrar")
registration.step_buttons["accept"].click()
assert registration.feedback.kind == "ok", registration.feedback.text
assert selection.round.options and "SEL-" in selection.rounds_table.value
assert "weighted total" in selection.detail.value  # the seeded round's applicants and their totals
""",
    ],
    "02_request_and_review.ipynb": [
        """
rid, holder = resource("RES-000003")
who.choose("requester", user(Role.requester, kind="research"))
req.resource.value = rid
req.channel.value = "opening"
req.purpose.value = "research"
req.submit_button.click()
assert req.feedback.kind == "ok", req.feedback.text
code = req.feedback.text.split()[1]
assert "in review" in req.status.value
who.choose("steward", user(Role.steward, holder))
queue.select(code)
queue.decision.value = "approve_with_conditions"
queue.conditions.value = "deidentify(k>=5, l>=2)\\nreport_usage(days=30)"
queue.decide_button.click()
assert queue.feedback.kind == "ok", queue.feedback.text
with sb.session() as s:
    r = s.exec(select(AccessRequest).where(AccessRequest.code == code)).one()
    conds = [c.text for c in r.conditions if c.source == "reviewer"]
    status = r.status.value
assert status in ("approved_with_conditions", "granted", "delivered"), status
assert conds == ["deidentify(k>=5, l>=2)", "report_usage(days=30)"], conds
assert code in req.status.value
queue.deliver_button.click()
assert queue.feedback.kind == "ok", queue.feedback.text
with sb.session() as s:
    assert s.exec(select(AccessRequest).where(AccessRequest.code == code)).one().status == "delivered"
assert "Status: delivered" in req.status.value and "Usage report due" in req.status.value
who.choose("requester", user(Role.requester, kind="research"))
req.usage_summary.value = "Service coverage study, published in aggregate"
req.report_button.click()
assert req.feedback.kind == "ok" and "Usage report" in req.feedback.text, req.feedback.text
""",
        """
# sharing: a department asks another department; authorized operation: a paid product quote
who.choose("requester", user(Role.requester, kind="department"))
req.kind.value = "resource"
req.resource.value = resource("RES-000002")[0]
req.channel.value = "sharing"
req.purpose.value = "public_governance"
req.submit_button.click()
assert req.feedback.kind == "ok", req.feedback.text
req.kind.value = "product"
req.purpose.value = "industry_development"
req.volume.value = 100
assert req.last_quote is not None and req.last_quote.total > 0
req.submit_button.click()
assert req.feedback.kind == "ok", req.feedback.text
with sb.session() as s:
    channels = {c for (c,) in s.exec(sa.select(AccessRequest.channel)).all()}
assert {"sharing", "opening", "authorized_operation"} <= {str(c) for c in channels}, channels
""",
    ],
    "03_pricing.ipynb": [
        """
assert ops.products, "the operator sees its products"
assert "Price cap" in ops.product_table.value
assert "Headroom" in ops.mar_table.value and "CST-" in ops.mar_table.value, "its MAR, set from its cost filing"
assert "regulator" in regulator.note.value.lower(), "an operator sees none of the regulator's figures"
assert selection.plan.options and selection.resources.options, "the institution's approved plan and its resources"
assert selection.round.options and "SEL-" in selection.round.options[0][0]
who.choose("regulator")
assert "CAP-" in regulator.cap_table.value and "CST-" in regulator.cost_table.value, regulator.cap_table.value
assert regulator.operator.options and regulator.feedback.kind == "", regulator.feedback.text
who.choose("requester", user(Role.requester, kind="enterprise"))
quote.purpose.value = "industry_development"
quote.volume.value = 1
low = quote.last_quote.total
quote.volume.value = 1000
assert quote.last_quote.total > low
quote.purpose.value = "public_welfare"
assert quote.last_quote.total == 0 and "Free" in quote.quote_html.value
# step 6: the experiment of this notebook, end to end
while walk.next_step():
    assert walk.feedback.kind != "error", walk.feedback.text
assert [kind for _step, _who, kind, _text in walk.done].count("refused") == 1
""",
    ],
    "04_privacy.ipynb": [
        """
# step 1: raw rows with their column roles
assert roles.feedback.kind == "", roles.feedback.text
assert {"identifier", "quasi_identifier"} <= {str(m) for m in roles.roles.values()}, roles.roles
ident = next(c for c, m in roles.roles.items() if m == "identifier")
assert f"{ident} · identifier" in roles.rows_table.value
assert "dropped before any release" in roles.roles_table.value
# step 2: the same rows at k = 5, then k = 10
lab.rows.value, lab.k.value = 300, 5
lab.run_button.click()
assert lab.feedback.kind == "ok", lab.feedback.text
r5 = lab.report
lab.k.value = 10
lab.run_button.click()
assert lab.feedback.kind == "ok", lab.feedback.text
r10 = lab.report
assert r5.k_achieved >= 5 and r10.k_achieved >= 10 and lab.plot.children
assert r10.prosecutor_risk_max <= 0.1 < r5.prosecutor_risk_max <= 0.2 and r10.ncp >= r5.ncp
# step 3: the trade-off curve
curve.rows.value = 300
curve.run_button.click()
assert curve.feedback.kind == "ok", curve.feedback.text
met = [p for p in curve.points if p["ncp"] is not None]
assert len(met) >= 3 and all(p["risk"] <= 1 / p["k"] for p in met)
assert [p["ncp"] for p in met] == sorted(p["ncp"] for p in met)
assert curve.plot.children[0].value[:4] == b"\\x89PNG"
# step 4: aggregates with a minimum cell size, then with noise
agg.rows.value, agg.min_cell.value = 400, 10
agg.run_button.click()
assert agg.feedback.kind == "ok", agg.feedback.text
rep = agg.release.report
assert rep.cells_suppressed > 0 and rep.cells_released + rep.cells_suppressed == rep.cells_total
assert (agg.release.table["count"] >= 10).all() and rep.epsilon_spent is None
agg.epsilon.value = 1.0
agg.run_button.click()
assert agg.feedback.kind == "ok" and agg.release.report.epsilon_spent == 1.0
# step 5: one question answered three ways, then the sweep of error against risk
three.rows.value, three.k.value, three.min_cell.value, three.epsilon.value = 5000, 10, 10, 1.0
three.run_button.click()
assert three.feedback.kind == "ok", three.feedback.text
by = {a.method: a for a in three.answers}
assert set(by) == {"rows", "sql", "dp"} and by["sql"].cells_unanswered > 0 and by["dp"].risk > 0.99
assert three.plot.children[0].value[:4] == b"\\x89PNG" and "Aggregate SQL" in three.table.value
three.sweep_button.click()
assert three.feedback.kind == "ok", three.feedback.text
sw = three.sweep_table
assert set(sw.method) == {"rows", "sql", "dp"}
dp_errors = sw[sw.method == "dp"].sort_values("parameter").error.tolist()
assert dp_errors[0] > dp_errors[-1], dp_errors  # more ε, less error
""",
    ],
    "05_policy_scenarios.ipynb": [
        """
# step 1: what differs between two scenarios
assert explain.feedback.kind == "info", explain.feedback.text
assert any(k.startswith("pricing.discounts") for k, _, _ in explain.differences), explain.differences
assert "pricing › discounts › by size › micro" in explain.policy_diff.value  # in words, not the dotted key
explain.b.value = "deemed-approval"
changed = [k for k, _, _ in explain.setting_differences]
assert changed == ["review.capacity.holder"], changed
assert "review › capacity › data holder review" in explain.settings.value
assert "deemed-approval" in explain.facts.value
# step 2: two policies on the same seeds
lab.seeds.value, lab.days.value = 1, 10
lab.run_button.click()
assert lab.feedback.kind == "ok", lab.feedback.text
assert lab.progress.value == lab.progress.max and "Requests filed" in lab.table.value
# step 3: the cap sweep
caps = sweep.cap_values()
assert len(caps) == 4 and sweep.unit.value == "per_product", caps
sweep.days.value = 30
sweep.run_button.click()
assert sweep.feedback.kind == "ok", sweep.feedback.text
key = "policy.overrides.pricing.caps.per_product"
assert sweep.results.groupby(key).size().to_dict() == {c: 2 for c in caps}
assert list(sweep.summary.index) == caps and (sweep.summary["filed.enterprise_micro"] > 0).all()
paid = sweep.summary["price_paid_mean.enterprise_micro"]
assert paid.iloc[0] < paid.iloc[-1], paid
# step 4: false free-use claims against detection
leak.seeds.value, leak.days.value = 1, 30
leak.false_share.value, leak.detection.value = "0, 0.4", "0, 1"
leak.run_button.click()
assert leak.feedback.kind == "ok", leak.feedback.text
fs, det = "demand.free_claims.false_share", "demand.free_claims.detection"
assert leak.summary.loc[("0.4", "0"), "leaked_revenue"] > 0 == leak.summary.loc[("0", "0"), "leaked_revenue"]
assert leak.summary.loc[("0.4", "1"), "recovered_revenue"] > 0 and "Revenue leaked" in leak.table.value
assert sweep.progress.value == sweep.progress.max == 8
assert sweep.plot.children[0].value[:4] == b"\\x89PNG" and "Filed · micro" in sweep.table.value
# the research question's answer can be taken away: the table and the figure
wanted = {"sweep-summary.csv", "sweep-summary.parquet", "sweep-small-firms.png", "sweep-small-firms.svg"}
assert wanted <= set(sweep.downloads.files)
assert {"comparison.csv", "comparison.parquet"} <= set(lab.downloads.files)
# step 5: the simulator against Erlang C (a short check: 2 loads x 3 seeds x 60 days)
theory.loads.value, theory.seeds.value, theory.days.value = "0.5, 0.8", 3, 60
theory.run_button.click()
assert theory.feedback.kind == "ok", theory.feedback.text
assert theory.progress.value == theory.progress.max == 6
assert list(theory.curve["load"]) == [0.5, 0.8] and (theory.curve["analytic"] > 0).all()
assert theory.plot.children[0].value[:4] == b"\\x89PNG" and "Erlang C" in theory.table.value
theory.loads.value = "0.5, 1.2"
theory.run_button.click()
assert theory.feedback.kind == "error" and "loads" in theory.feedback.text, theory.feedback.text
from marketplace.ui import i18n
i18n.set_language("zh")
assert "负荷" in theory.table.value
i18n.set_language("en")
""",
    ],
    "06_disclosure.ipynb": [
        """
# step 1: the yearly report
panel.build_button.click()
assert panel.feedback.kind == "ok", panel.feedback.text
assert not panel.publication_rows.empty and "Timeliness" in panel.publications.value  # each party's disclosure
assert panel.downloads.value.count("download=") == 5
assert any(name.endswith("-chart-revenue.svg") for name in panel.exports.files)
# step 2: the DCAT-AP register
dcat.build_button.click()
assert dcat.feedback.kind == "ok", dcat.feedback.text
from rdflib.namespace import DCAT, RDF
datasets = set(dcat.graph.subjects(RDF.type, DCAT.Dataset))
assert datasets and len(dcat.dataset.options) == len(datasets)
assert "dcat:Dataset" in dcat.counts.value and "dct:title" in dcat.triples.value
assert dcat.source.value.startswith("@prefix") and 'download="register.ttl"' in dcat.download.value
# step 3: importing a portal's catalogue
imports.preview_button.click()
assert imports.feedback.kind == "info" and len(imports.datasets) == 3, imports.feedback.text
imports.import_button.click()
assert imports.feedback.kind == "ok", imports.feedback.text
codes = imports.result.created
assert len(codes) == 3
with sb.session() as s:
    found = s.exec(select(Resource.code).where(Resource.code.in_(codes))).all()
assert sorted(found) == sorted(codes)
imports.import_button.click()
assert imports.result.created == [] and sorted(imports.result.unchanged) == sorted(codes)
""",
    ],
    "apps/catalog.ipynb": ["browser = app.children[1]\nassert browser.rows and browser.listing.options"],
    "apps/request_and_review.ipynb": [
        "who, tabs = app.children[1], app.children[2]\n"
        "assert sb.account_id is not None and len(tabs.children) == 3"
    ],
    "apps/privacy_lab.ipynb": [
        "lab = app.children[1]\nlab.run_button.click()\nassert lab.feedback.kind == 'ok', lab.feedback.text"
    ],
    "apps/compute_lab.ipynb": [
        "lab = app.children[1]\nlab.rows.value = 3000\nlab.run_button.click()\n"
        "assert lab.feedback.kind == 'ok', lab.feedback.text"
    ],
    "apps/scenario_lab.ipynb": ["lab = app.children[1]\nassert lab.a.value and lab.b.value"],
    "apps/disclosure.ipynb": [
        "panel = app.children[1]\npanel.build_button.click()\n"
        "assert panel.feedback.kind == 'ok', panel.feedback.text"
    ],
}


def all_notebooks() -> list[str]:
    """The tour and the apps; notebooks/workshop/ needs a workshop set up (join codes) and is executed by
    tests/workshop/test_workshop_notebooks.py."""
    return sorted(
        str(p.relative_to(NOTEBOOKS))
        for p in NOTEBOOKS.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and "workshop" not in p.parts
    )


def test_expected_notebooks_exist() -> None:
    assert set(CHECKS) <= set(all_notebooks())


@pytest.mark.parametrize("name", all_notebooks())
def test_notebook_is_committed_clean(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(book)
    assert book.nbformat == 4 and book.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, "committed with outputs"
        assert 1 <= len(cell.source.strip().splitlines()) <= 3, (
            f"code cell longer than 3 lines: {cell.source!r}"
        )
        assert "class " not in cell.source and "def " not in cell.source, "logic belongs in the package"
    if name.startswith("apps/"):
        assert [c.cell_type for c in book.cells] == ["code"], "an app only displays a panel"


def _errors(book: nbformat.NotebookNode) -> list[str]:
    found = []
    for i, cell in enumerate(book.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and "Traceback" in out.get("text", ""):
                found.append(f"cell {i}: {out['text'][-800:]}")
    return found


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """The python3 kernel must run this interpreter (the project's venv)."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    argv0 = spec.argv[0]
    assert (
        argv0 in ("python", "python3", sys.executable)
        or Path(argv0).resolve() == Path(sys.executable).resolve()
    ), f"python3 kernelspec runs {argv0}; install it with: {sys.executable} -m ipykernel install --sys-prefix"
    return "python3"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_and_reacts(
    name: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    original = len(book.cells)
    book.cells.append(nbformat.v4.new_code_cell(COMMON))
    for source in CHECKS[name]:
        book.cells.append(nbformat.v4.new_code_cell(source))
    monkeypatch.setenv("MARKETPLACE_DB_URL", "sqlite://")
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_LANG", "en")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        book,
        kernel_name=kernel_name,
        timeout=240,
        startup_timeout=120,
        resources={"metadata": {"path": str((NOTEBOOKS / name).parent)}},
    )
    client.execute()
    assert _errors(book) == []
    displayed = [
        c
        for c in book.cells[:original]
        if c.cell_type == "code"
        and any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.outputs)
    ]
    assert displayed, "no widget was displayed"
    assert not any(
        json.dumps(o).count("Not done:") for c in book.cells[:original] for o in c.get("outputs", [])
    )
