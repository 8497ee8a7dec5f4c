"""Responsiveness of the widget notebooks, measured in a real JupyterLab in headless Chromium.

    .venv/bin/python benchmarks/bench_ui.py

Figures (targets from the issue), each with a baseline measured in the same run:

1. kernel (re)start to the first widget of 00_start_here on a fresh sandbox (<= 5 s);
   baseline: kernel restart to a one-button notebook.
2. quote refresh: from the volume input's change event in the page to the quote lines changing in the DOM
   (<= 50 ms); baseline: the same round trip through an IntText whose observer echoes into an HTML widget,
   and a bare kernel execute round trip. Measured again with TCP_NODELAY set on the kernel websocket (a
   server setting: jupyter_server leaves Nagle's algorithm on, which holds small frames ~40 ms for the
   browser's delayed ACK). Also the Python callback alone (no browser).
3. review queue with 10,000 pending requests: from choosing the steward in the "act as" panel to the first
   page on screen (<= 300 ms); baseline: the same switch to a steward with an empty queue.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from lab_harness import (  # noqa: E402
    chromium,
    chromium_problem,
    jupyter_lab,
    open_notebook,
    run_all,
    sandbox_env,
    widget_select,
)

PENDING = 10_000
QUOTE_ROUNDS = 30
QUEUE_ROUNDS = 5
START_ROUNDS = 3


def _notebook(path: Path, *sources: str) -> None:
    book = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    book.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    path.write_text(nbformat.writes(book), encoding="utf-8")


def _fill_pending(url: str, n: int) -> tuple[str, str]:
    """Seed the world, then add `n` requests waiting for one steward (bulk SQL: this sets the stage, it is not
    the thing measured). Returns the labels of that steward and of a steward with an empty queue."""
    import sqlalchemy as sa
    from sqlmodel import select

    from marketplace import db
    from marketplace.models import AccessRequest, Account, AccountRole, Resource, Review
    from marketplace.synth import ensure_seeded

    engine = db.make_engine(url)
    ensure_seeded(engine)
    with db.session_scope(engine) as s:
        res = s.exec(select(Resource).where(Resource.code == "RES-000003")).one()
        requester = s.exec(
            select(Account)
            .join(AccountRole)
            .where(AccountRole.role == "requester")
            .where(Account.organization_id != res.holder_id)
            .order_by(Account.id)
        ).first()
        stewards = s.exec(
            select(Account).join(AccountRole).where(AccountRole.role == "steward").order_by(Account.id)
        ).all()
        busy = next(a for a in stewards if a.organization_id == res.holder_id)
        idle = next(a for a in stewards if a.organization_id != res.holder_id)
        labels = (
            f"{busy.display_name} — {busy.organization.name}",
            f"{idle.display_name} — {idle.organization.name}",
        )
        res_id, holder, req_id, req_org = res.id, res.holder_id, requester.id, requester.organization_id
    now = datetime(2025, 3, 3, 9, tzinfo=UTC)
    with engine.begin() as conn:
        start = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM accessrequest")).scalar() + 1
        conn.execute(
            sa.insert(AccessRequest.__table__),
            [
                {
                    "id": start + i,
                    "code": f"REQ-BENCH-{i:06d}",
                    "requester_id": req_id,
                    "requester_org_id": req_org,
                    "channel": "opening",
                    "resource_id": res_id,
                    "purpose": "research",
                    "use_statement": "bench",
                    "fields": [],
                    "volume": 1,
                    "duration_days": 365,
                    "status": "in_review",
                    "policy_name": "national-2025",
                    "created_at": now,
                    "submitted_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            sa.insert(Review.__table__),
            [
                {
                    "request_id": start + i,
                    "sequence": 0,
                    "stage": "holder",
                    "reviewer_role": "steward",
                    "reviewer_org_id": holder,
                    "status": "pending",
                    "opened_at": now,
                    "due_on": (now + timedelta(days=15 + i % 20)).date(),
                    "breached": False,
                    "reason": "",
                    "version": 1,
                }
                for i in range(n)
            ],
        )
    engine.dispose()
    return labels


def _python_quote_callback(url: str) -> float:
    """Median seconds of RequestPanel.refresh_quote after a volume change, in process (no browser)."""
    from marketplace import db
    from marketplace.ui import actas, requests
    from marketplace.ui.context import Sandbox

    sb = Sandbox(db.make_engine(url))
    who = actas.act_as(sb)
    who.role.value = "requester"
    panel = requests.request_panel(sb, kind="product")
    panel.purpose.value = "industry_development"
    times = []
    for i in range(200):
        t0 = time.perf_counter()
        panel.volume.value = 10 + i
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _restart_to_widget(page: Any, selector: str) -> float:
    """ms from a kernel restart (outputs cleared) to `selector` appearing after run-all (in the page)."""
    return page.evaluate(
        """async (sel) => {
            const app = window.jupyterapp, w = app.shell.currentWidget;
            await app.commands.execute('notebook:clear-all-cell-outputs');
            const t0 = performance.now();
            await w.sessionContext.session.kernel.restart();
            app.commands.execute('notebook:run-all-cells');
            await new Promise(res => { const tick = () => w.node.querySelector(sel) ? res() :
                                           requestAnimationFrame(tick); tick(); });
            return performance.now() - t0;
        }""",
        selector,
    )


# "scope|Label": the input or select of the widget in `scope` whose description label is `Label`
_FIND = """const FIND = (root, spec) => { if (!spec.includes('|')) return root.querySelector(spec);
    const [scope, label] = spec.split('|');
    const box = [...root.querySelectorAll(scope + ' .widget-inline-hbox')].find(
        b => { const l = b.querySelector(':scope > label'); return l && l.innerText.trim() === label; });
    return box.querySelector('input, select, textarea'); };"""


def _execute_round_trip(page: Any) -> float:
    """ms for a bare `pass` execute request and its reply: the messaging floor under any widget update."""
    return page.evaluate(
        """async () => {
            const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const t0 = performance.now();
            await k.requestExecute({code: 'pass', silent: true}).done;
            return performance.now() - t0;
        }"""
    )


def _input_to_dom(page: Any, input_sel: str, output_sel: str, value: int) -> float:
    """ms from the input's change event to the output element's content changing."""
    return page.evaluate(
        "async ([inSel, outSel, value]) => {"
        + _FIND
        + """
            const w = window.jupyterapp.shell.currentWidget;
            const input = FIND(w.node, inSel), out = w.node.querySelector(outSel);
            const before = out.innerHTML;
            const done = new Promise(res => {
                const obs = new MutationObserver(() => {
                    if (out.innerHTML !== before) { obs.disconnect(); res(performance.now()); }
                });
                obs.observe(out, {childList: true, subtree: true, characterData: true});
            });
            const t0 = performance.now();
            input.value = String(value);
            input.dispatchEvent(new Event('change', {bubbles: true}));
            return (await done) - t0;
        }""",
        [input_sel, output_sel, value],
    )


def _select_to_text(page: Any, select_sel: str, label: str, out_sel: str, text: str) -> float:
    """ms from choosing `label` in a <select> to `out_sel` containing `text`."""
    return page.evaluate(
        "async ([selSel, label, outSel, text]) => {"
        + _FIND
        + """
            const w = window.jupyterapp.shell.currentWidget;
            const sel = FIND(w.node, selSel);
            const find = () => [...sel.options].find(o => o.text.replace(/\u00a0/g, ' ') === label);
            for (let i = 0; i < 600 && !find(); i++) await new Promise(r => setTimeout(r, 50));
            const opt = find();
            if (!opt) throw new Error('no option ' + label);
            const out = () => w.node.querySelector(outSel);
            const t0 = performance.now();
            sel.value = opt.value;
            sel.dispatchEvent(new Event('change', {bubbles: true}));
            await new Promise(res => { const tick = () => (out() && out().innerText.includes(text)) ? res() :
                                           requestAnimationFrame(tick); tick(); });
            return performance.now() - t0;
        }""",
        [select_sel, label, out_sel, text],
    )


NODELAY_CONFIG = """
# Benchmark-only server config: send kernel websocket frames at once (TCP_NODELAY), so small widget
# messages are not held back by Nagle's algorithm waiting for the browser's delayed ACK.
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

_open = KernelWebsocketHandler.open


async def _open_nodelay(self, *args, **kwargs):
    self.set_nodelay(True)
    return await _open(self, *args, **kwargs)


KernelWebsocketHandler.open = _open_nodelay
"""


def _quote_round(
    page: Any, server: Any
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(quote, echo, bare execute) median/p90 ms in one server session (the quote notebook must exist)."""
    open_notebook(page, server, "baseline.ipynb")
    run_all(page)
    echo = [_input_to_dom(page, ".widget-text input", ".echo", 100 + i) for i in range(QUOTE_ROUNDS)]
    execute = [_execute_round_trip(page) for _ in range(QUOTE_ROUNDS)]
    open_notebook(page, server, "quote.ipynb")
    run_all(page)
    page.locator(".mp-quote table").first.wait_for(state="visible")
    quote = [_input_to_dom(page, ".mp-request|Volume", ".mp-quote", 20 + i) for i in range(QUOTE_ROUNDS)]
    return _stats(quote), _stats(echo), _stats(execute)


def _stats(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]


def main() -> int:
    problem = chromium_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    root = work / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / "00_start_here.ipynb", root / "notebooks")
    _notebook(
        root / "baseline.ipynb",
        "import ipywidgets as w\nw.Button(description='baseline')",
        "x = w.IntText(value=0)\ny = w.HTML()\ny.add_class('echo')\n"
        "x.observe(lambda c: setattr(y, 'value', str(c['new'])), names='value')\nw.VBox([x, y])",
    )
    _notebook(
        root / "quote.ipynb",
        "from marketplace.ui import act_as, request_panel\nwho = act_as(role='requester')",
        "req = request_panel(kind='product')\nreq.purpose.value = 'industry_development'\nreq",
    )
    _notebook(
        root / "queue.ipynb",
        "from marketplace.ui import act_as, review_queue\nwho = act_as()\nwho",
        "queue = review_queue()\nqueue",
    )
    url = f"sqlite:///{work / 'sandbox.db'}"
    env = sandbox_env(work, url)
    results: dict[str, Any] = {}
    import lab_harness

    lab_harness.REPO = root  # serve the copies (and the bench notebooks) from a temp root
    try:
        with jupyter_lab(work, env) as server, chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            # 1. kernel start -> first widget, fresh sandbox (the database file does not exist yet)
            t0 = time.perf_counter()
            open_notebook(page, server, "notebooks/00_start_here.ipynb")
            run_all(page)
            page.locator(".mp-language").first.wait_for(state="visible")
            results["cold"] = time.perf_counter() - t0
            start = [_restart_to_widget(page, ".mp-language") for _ in range(START_ROUNDS)]
            open_notebook(page, server, "baseline.ipynb")
            run_all(page)
            base = [_restart_to_widget(page, ".widget-button") for _ in range(START_ROUNDS)]
            results["start"], results["start_base"] = statistics.median(start), statistics.median(base)
            # 2. quote refresh (the world is seeded here, with the pending requests of 3.)
            labels = _fill_pending(url, PENDING)
            results["quote"], results["echo"], results["execute"] = _quote_round(page, server)
            # 3. review queue first page with 10,000 pending
            open_notebook(page, server, "queue.ipynb")
            run_all(page)
            panel = page.locator(".jp-NotebookPanel:visible .mp-actas")
            widget_select(panel, "Role").select_option(label="steward")
            busy, idle = labels
            full, empty = [], []
            for _ in range(QUEUE_ROUNDS):
                full.append(
                    _select_to_text(page, ".mp-actas|Account", busy, ".mp-review", f"· {PENDING} items")
                )
                empty.append(_select_to_text(page, ".mp-actas|Account", idle, ".mp-review", "· 0 items"))
            results["queue"], results["queue_base"] = _stats(full), _stats(empty)
        # 2b. the same quote round with TCP_NODELAY on the kernel websocket (a server setting, not the panels)
        nodelay_dir = work / "jupyter-config-nodelay"
        nodelay_dir.mkdir()
        (nodelay_dir / "jupyter_server_config.py").write_text(NODELAY_CONFIG)
        with (
            jupyter_lab(work, {**env, "JUPYTER_CONFIG_DIR": str(nodelay_dir)}) as server,
            chromium() as browser,
        ):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            results["nd_quote"], results["nd_echo"], results["nd_execute"] = _quote_round(page, server)
    finally:
        lab_harness.REPO = REPO
    results["python_quote"] = _python_quote_callback(url)

    print("UI responsiveness (headless Chromium, JupyterLab)")
    print(f"  JupyterLab page load + kernel start + first widget (cold): {results['cold']:.2f} s")
    print(
        "  kernel restart -> first widget of 00_start_here: "
        f"{results['start'] / 1000:.2f} s (target <= 5 s); "
        f"baseline one-button notebook {results['start_base'] / 1000:.2f} s; "
        f"ratio {results['start'] / results['start_base']:.2f}"
    )
    q, e = results["quote"], results["echo"]
    print(
        f"  quote refresh, input event -> DOM: median {q[0]:.1f} ms, p90 {q[1]:.1f} ms (target <= 50 ms); "
        f"baseline echo median {e[0]:.1f} ms; ratio {q[0] / e[0]:.2f}; "
        f"bare execute round trip median {results['execute'][0]:.1f} ms"
    )
    q, e, x = results["nd_quote"], results["nd_echo"], results["nd_execute"]
    print(
        f"  same with TCP_NODELAY on the kernel websocket: quote median {q[0]:.1f} ms, p90 {q[1]:.1f} ms; "
        f"echo median {e[0]:.1f} ms; ratio {q[0] / e[0]:.2f}; bare execute median {x[0]:.1f} ms"
    )
    print(f"  quote callback in Python alone: {results['python_quote'] * 1000:.2f} ms")
    r, b = results["queue"], results["queue_base"]
    print(
        f"  review queue, {PENDING:,} pending, account switch -> first page: median {r[0]:.0f} ms, "
        f"p90 {r[1]:.0f} ms (target <= 300 ms); baseline empty queue median {b[0]:.0f} ms; "
        f"ratio {r[0] / b[0]:.2f}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
