"""Time to a stable drawing of a ~2,000-node exposure view in headless Chromium.

    .venv/bin/python benchmarks/ui_render.py [--bundle bench-data/synthetic-10000] [--nodes 2000] [--runs 5]

Generates the synthetic bundle when missing (benchmarks/synthetic.py, 10,000 factories), loads it into a
temporary embedded store, picks the affiliate whose exposure drawing is nearest --nodes, serves the app
with uvicorn on a loopback port and opens /ui/exposure/affiliate/ID in Chromium (Playwright). The time is
from the navigation start to vis-network's first `afterDrawing` (the layout is hierarchical with physics
off, so the first drawing is the stable one); the server's time to build the page is part of it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.keys import KeyRing  # noqa: E402
from api.ui.views import exposure_drawing  # noqa: E402
from graph.ladybug_store import LadybugStore  # noqa: E402
from graph.loading import load_bundles  # noqa: E402
from graph.settings import Settings  # noqa: E402
from queries import cypher  # noqa: E402
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "bench-data" / "synthetic-10000")
    parser.add_argument("--factories", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=2000, help="drawn nodes wanted")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--as-of", default="2025-06-01")
    parser.add_argument("--depth", type=int, default=8)
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    if not (args.bundle / "factories.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "synthetic.py"), str(args.bundle),
                        "--factories", str(args.factories)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = LadybugStore(folder / "db")
        started = time.perf_counter()
        load_bundles(store, [args.bundle])
        print(f"loaded {args.bundle} in {time.perf_counter() - started:.1f} s")
        affiliates = [r["id"] for r in store.run(cypher.AFFILIATES_WITH_CONTRACTS)]
        best: tuple[int, str, int, int, float] | None = None
        for depth in range(2, args.depth + 1):  # the depth and affiliate whose drawing is nearest --nodes
            for affiliate in affiliates[:20]:
                t = time.perf_counter()
                drawing = exposure_drawing(store, "affiliate", affiliate, as_of, depth)
                built = time.perf_counter() - t
                gap = abs(len(drawing.nodes) - args.nodes)
                if best is None or gap < best[0]:
                    best = (gap, affiliate, depth, len(drawing.nodes), built)
            if best is not None and best[0] < args.nodes // 10:
                break
        assert best is not None, "no affiliate with contracts"
        _gap, affiliate, args.depth, nodes, built = best
        print(f"affiliate {affiliate}, depth {args.depth}: {nodes} nodes drawn (server-side build {built:.2f} s)")
        keyring = KeyRing(folder / "keys.sqlite")
        key = keyring.create("investigator", name="bench")[0]
        server, thread, base = serve(create_app(Settings(db=folder / "db"), store, keyring=keyring))
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.goto(f"{base}/ui/login")
                page.fill("#key", key)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                url = f"{base}/ui/exposure/affiliate/{affiliate}?as_of={args.as_of}&depth={args.depth}"
                times, walls, script = [], [], []
                for _run in range(args.runs + 1):  # the first run warms the server's caches and the browser's
                    t = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("#network[data-drawn='1']", timeout=60_000)
                    walls.append(time.perf_counter() - t)
                    times.append(page.evaluate("window.sg.drawnSinceNavigation") / 1000)
                    script.append(page.evaluate("window.sg.drawnAt") / 1000)
                    drawn = page.evaluate("window.sg.nodes.length")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            store.close()
    print(f"drawn nodes: {drawn}")
    print(f"cold (first) run: {times[0]:.2f} s from navigation to first afterDrawing")
    print(f"warm runs (median of {args.runs}): {statistics.median(times[1:]):.2f} s navigation to afterDrawing; "
          f"{statistics.median(script[1:]):.2f} s of it in vis-network (DataSet to drawn); "
          f"{statistics.median(walls[1:]):.2f} s wall clock as Playwright sees it")


if __name__ == "__main__":
    main()
