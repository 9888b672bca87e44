"""The investigators' overview and the finding-centred view on the synthetic graph: how long the pages take.

    python -m benchmarks.ui_overview --factories 10000 [--workdir DIR] [--repeat 3]

Generates the bundle (benchmarks/synthetic.py), loads it into the embedded store, serves the app in-process
and prints, per page: the first request of a fresh app (the exposure index built, every buying affiliate
walked), the next ones (kept per generation), and the overview computed alone (queries/overview.py) with
the index already built.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.overview import overview

from benchmarks.synthetic import generate

AS_OF = "2026-06-01"


def timed(client: TestClient, url: str) -> float:
    started = time.perf_counter()
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None, help="where the bundle and graph go (a temporary folder)")
    parser.add_argument("--repeat", type=int, default=3, help="overview computations timed alone")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ui-overview-"))
    generate(folder / "bundle", factories=args.factories)
    store = LadybugStore(folder / "db")
    load_bundles(store, [folder / "bundle"], fresh=True)
    keyring = KeyRing(folder / "keys.sqlite")
    key = keyring.create("investigator", name="bench")[0]
    app = create_app(Settings(db=folder / "db"), store, keyring=keyring)
    with TestClient(app, base_url="https://testserver", headers={"Origin": "https://testserver"}) as client:
        assert client.post("/ui/login", data={"key": key}, follow_redirects=False).status_code == 303
        first = timed(client, f"/ui/overview?as_of={AS_OF}")
        again = [timed(client, f"/ui/overview?as_of={AS_OF}") for _ in range(5)]
        day = date.fromisoformat(AS_OF)
        alone = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = overview(store, day)
            alone.append(time.perf_counter() - started)
        top = next(f for f in found.findings if f["affiliates"])
        finding_first = timed(client, f"/ui/exposure/finding/{top['id']}?as_of={AS_OF}")
        finding_again = timed(client, f"/ui/exposure/finding/{top['id']}?as_of={AS_OF}")
    print(f"{args.factories:,} factories, {found.counts['affiliates']:,} affiliates, "
          f"{found.counts['findings_open']:,} findings open on {AS_OF}")
    print(f"/ui/overview: first request {first:.2f} s (index built and every buying affiliate walked), "
          f"then median {statistics.median(again) * 1000:.0f} ms (kept per generation)")
    print(f"overview() alone, index built: median {statistics.median(alone):.2f} s of {args.repeat}")
    print(f"/ui/exposure/finding/{top['id']} ({top['affiliates']} affiliates exposed): first {finding_first:.2f} s, "
          f"then {finding_again * 1000:.0f} ms")


if __name__ == "__main__":
    main()
