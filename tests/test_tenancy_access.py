"""Tenancy, tried as a hostile affiliate would, on both stores, on the demo and on a generated bundle.

For each affiliate, with its own key: open every /ui page, drawing, export, neighbour page and search it
can reach (entity pages for every node of the graph at depths 1-3, exposure views of every affiliate,
factory and agency at several depths, the finding-centred view of every finding, every affiliate's
summary, the overview, a search for every name and id) and every /v1 route an affiliate
key may call. Every graph id in a response must be in the set its own exposure answer (factories,
agencies, findings, the nodes on their paths, sources, gaps) and its own contracts (their ids and
frameworks) contain, for the same day and depth; and no other affiliate's name may appear. What it may
not see answers 404 and names nothing. The oracle is the key's own answers from /v1 (exposure and
contracts_of_affiliate), which the access matrix (tests/test_api_access.py) checks against the registry.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.entity_cypher import fill

from tests.conftest import DEMO
from tests.test_api_access import answer_names, open_test_store

AS_OF = "2026-06-01"
TOKEN = re.compile(r"[A-Za-z0-9_@-]+(?:\.[A-Za-z0-9_@-]+)*")
ALL_NODES = "MATCH (n:{label}) RETURN n.id AS id, n.{display} AS name"
CODE = re.compile(r"<script>.*?</script>|<style>.*?</style>", re.S)  # code, not data (data: type=application/json)
PLURALS = {"factory": "factories", "agency": "agencies", "finding": "findings"}


@dataclass
class Served:
    app: Any
    store: Store
    keys: dict[str, str]  # affiliate id -> its key
    nodes: dict[str, set[str]]  # label -> ids
    names: dict[str, str]  # id -> display name
    affiliates: list[str]  # those whose keys are tried
    sample: int = 1  # try every node (1), or every n-th node besides those of the key's own answers
    failures: list[str] = field(default_factory=list)


def serve(kind: str, bundle: Path, folder: Path, tried: list[str] | None = None, sample: int = 1) -> Iterator[Served]:
    store = open_test_store(kind, folder)
    try:
        load_bundles(store, [bundle])
        nodes: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for label, spec in SCHEMA.nodes.items():
            for row in store.run(fill(ALL_NODES, label=label, display=spec.display)):
                nodes.setdefault(label, set()).add(row["id"])
                if row["name"] is not None and spec.display != "id":
                    names[row["id"]] = str(row["name"])
        affiliates = sorted(nodes.get("Affiliate", set()))
        keyring = KeyRing(folder / "keys.sqlite")
        keys = {a: keyring.create("affiliate", a, a)[0] for a in affiliates}
        app = create_app(Settings(db=folder / "db"), store, keyring=keyring)
        with TestClient(app):
            yield Served(app, store, keys, nodes, names, tried or affiliates, sample)
    finally:
        store.close()


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(request.param, DEMO, tmp_path_factory.mktemp(f"tenancy-{request.param}"))


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from benchmarks.synthetic import generate

    folder = tmp_path_factory.mktemp(f"tenancy-gen-{request.param}")
    generate(folder / "bundle", factories=300, links=4, seed=11)
    # A0 is a consortium (its members call off its framework), the others are members or not; every 5th
    # node of ~600 is tried, and every node of their own answers.
    yield from serve(request.param, folder / "bundle", folder, ["A0", "A1", "A2"], sample=5)


class Tenant:
    """One affiliate's key: its own answers (the oracle) and the checks of what its pages show."""

    def __init__(self, served: Served, affiliate: str) -> None:
        self.served = served
        self.own = affiliate
        self.api = TestClient(served.app, headers={"Authorization": f"Bearer {served.keys[affiliate]}"})
        self.ui = TestClient(served.app, base_url="https://testserver", follow_redirects=False,
                             headers={"Origin": "https://testserver"})
        login = self.ui.post("/ui/login", data={"key": served.keys[affiliate]})
        assert login.status_code == 303, login.text
        contracts = self.api.post("/v1/queries/contracts_of_affiliate", json={"affiliate_id": affiliate})
        assert contracts.status_code == 200, contracts.text
        self.contract_ids = {self.own} | {
            i for row in contracts.json()["rows"] for i in (row["contract"], row["framework"]) if i}
        self._allowed: dict[tuple[str | None, int], set[str]] = {}
        self._answers: dict[tuple[str | None, int], dict[str, Any]] = {}
        self.all_ids = {i for ids in served.nodes.values() for i in ids}
        others = set(served.nodes["Affiliate"]) - {affiliate}
        self.foreign_names = {served.names[a] for a in others if a in served.names}

    def answer(self, day: str | None, depth: int) -> dict[str, Any]:
        if (day, depth) not in self._answers:
            query = f"?depth={depth}" + (f"&as_of={day}" if day else "")
            got = self.api.get(f"/v1/affiliates/{self.own}/exposure{query}")
            assert got.status_code == 200, got.text
            self._answers[(day, depth)] = got.json()
        return self._answers[(day, depth)]

    def allowed(self, day: str | None, depth: int) -> set[str]:
        """The ids its own exposure answer (day, depth) and its own contracts contain."""
        if (day, depth) not in self._allowed:
            answer = self.answer(day, depth)
            ids = set(self.contract_ids)
            for section in ("factories", "agencies", "findings"):
                for item in answer[section]:
                    ids |= {item["id"], *item["path"], *item["sources"]}
            ids |= {gap["id"] for gap in answer["gaps"]}
            self._allowed[(day, depth)] = ids
        return self._allowed[(day, depth)]

    def tried(self, ids: set[str]) -> list[str]:
        """The ids to try: all, or every n-th and those of its own answers (day AS_OF and today, depth 4)."""
        n = self.served.sample
        mine = self.allowed(AS_OF, 4) | self.allowed(None, 4)
        return [i for k, i in enumerate(sorted(ids)) if k % n == 0 or i in mine]

    def items(self, kind: str, day: str | None, depth: int) -> set[str]:
        return {item["id"] for item in self.answer(day, depth)[PLURALS[kind]]}

    def check(
        self, what: str, response: Any, day: str | None, depth: int, *, visible: bool | None, echo: str = ""
    ) -> Any:
        """The response is 200 when `visible`, 404 when not (either when None); it names nothing outside the
        allowed set. Returns the response when it is a 200."""
        failures = self.served.failures
        want = response.status_code if visible is None and response.status_code in (200, 404) else (
            200 if visible else 404)
        if response.status_code != want:
            failures.append(f"{self.own}: {what}: {response.status_code} != {want}: {response.text[:200]}")
            return None
        text = CODE.sub(" ", response.text)  # the inlined vis-network, page script and styles of an HTML export
        if echo:  # a search page repeats what was asked: that is the caller's own text
            for form in {echo, html.escape(echo), html.escape(echo, quote=False), quote_plus(echo), quote(echo)}:
                text = text.replace(form, " ")
        shown = {t.rstrip(".") for t in TOKEN.findall(text)} & self.all_ids
        extra = shown - self.allowed(day, depth) - ({self.own} if visible else set())
        if extra:
            failures.append(f"{self.own}: {what}: shows {sorted(extra)[:10]} (not its own)")
        names = [n for n in self.foreign_names if n in text or html.escape(n) in text]
        if names:
            failures.append(f"{self.own}: {what}: names other affiliates {names[:5]}")
        if want == 404:
            assert "not visible" in text.lower() or "not found" in text.lower(), text[:300]
            return None
        return response


def try_ui(t: Tenant) -> None:
    nodes = t.served.nodes
    today_depth = 4  # entity pages and neighbour pages: its exposure today at the default depth
    named = answer_names(t.answer(None, today_depth))  # what its own answer today names opens, by type
    for label, ids in nodes.items():
        for node_id in t.tried(ids):
            own = label == "Affiliate" and node_id == t.own
            # its own contracts open too; a framework it only calls off under may or may not
            mine = (label.lower(), node_id) in named
            visible = True if mine else (None if label == "Contract" else False)
            for depth in (1, 2, 3) if own else (3,):
                url = f"/ui/entity/{label.lower()}/{quote(node_id, safe='')}?depth={depth}"
                t.check(url, t.ui.get(url), None, today_depth, visible=visible)
                for fmt in ("json", "graphml", "html") if own else ("json",):  # a 404 is the same for all three
                    url = f"/ui/entity/{label.lower()}/{quote(node_id, safe='')}/export.{fmt}?depth={depth}"
                    t.check(url, t.ui.get(url), None, today_depth, visible=visible)
            url = f"/ui/api/neighbours/{label.lower()}/{quote(node_id, safe='')}"
            own_graph = t.allowed(None, today_depth)
            # a node of its own graph may be expanded (200), anything else is 404
            got = t.check(url, t.ui.get(url), None, today_depth, visible=None if node_id in own_graph else False)
            while got is not None:  # "and N more": every page
                more = [n for n in got.json()["nodes"] if n.get("sg_type") == "more"]
                got = None
                if more:
                    url2 = f"{url}?offset={more[0]['sg_offset']}"
                    got = t.check(url2, t.ui.get(url2), None, today_depth, visible=True)
    for depth in (1, 2, 3, 4, 8):
        query = f"as_of={AS_OF}&depth={depth}"
        for affiliate in sorted(nodes["Affiliate"]):
            own = affiliate == t.own
            base = f"/ui/exposure/affiliate/{affiliate}"
            for url in (f"{base}?{query}", f"{base}/answers?{query}&offset=0",
                        *(f"{base}/export.{fmt}?{query}" for fmt in ("json", "graphml", "html"))):
                t.check(url, t.ui.get(url), AS_OF, depth, visible=own)
        if depth not in (2, 4):
            continue
        for kind, label in (("factory", "Factory"), ("agency", "Agency")):
            mine = t.items(kind, AS_OF, depth)
            for item in t.tried(nodes.get(label, set())):
                base = f"/ui/exposure/{kind}/{item}"
                for url in (f"{base}?{query}", f"{base}/export.json?{query}"):
                    t.check(url, t.ui.get(url), AS_OF, depth, visible=item in mine)
    for finding in t.tried(nodes.get("Finding", set())):  # the finding-centred view: its own findings only
        url = f"/ui/exposure/finding/{finding}?as_of={AS_OF}&depth=4"
        t.check(url, t.ui.get(url), AS_OF, 4, visible=finding in t.items("finding", AS_OF, 4))
    for affiliate in sorted(nodes["Affiliate"]):  # summaries: its own only
        url = f"/ui/summary/affiliate/{affiliate}?as_of={AS_OF}"
        t.check(url, t.ui.get(url), AS_OF, 4, visible=affiliate == t.own)
    for url in ("/ui/", "/ui/overview"):  # never the overview of the whole graph: its own summary
        landed = t.ui.get(url)
        if landed.status_code != 303 or landed.headers["location"] != f"/ui/summary/affiliate/{quote(t.own, safe='')}":
            t.served.failures.append(f"{t.own}: {url}: {landed.status_code} {landed.headers.get('location')}")
    for needle in t.tried(set(t.served.names.values()) | t.all_ids):
        url = f"/ui/search?q={needle}"
        t.check(url, t.ui.get("/ui/search", params={"q": needle}), None, today_depth, visible=True, echo=needle)


def try_v1(t: Tenant) -> None:
    nodes = t.served.nodes
    for kind, label in (("factory", "Factory"), ("agency", "Agency"), ("finding", "Finding")):
        mine = t.items(kind, AS_OF, 4)
        for item in t.tried(nodes.get(label, set())):
            url = f"/v1/{PLURALS[kind]}/{item}/exposed-affiliates?as_of={AS_OF}"
            t.check(url, t.api.get(url), AS_OF, 4, visible=item in mine)
            body = {"kind": kind, "item_id": item, "as_of": AS_OF}
            t.check(f"exposed_affiliates {body}", t.api.post("/v1/queries/exposed_affiliates", json=body),
                    AS_OF, 4, visible=item in mine)
    held = t.api.post("/v1/queries/contracts_of_affiliate", json={"affiliate_id": t.own}).json()["rows"]
    named = answer_names(t.answer(None, 4)) | {("contract", row["contract"]) for row in held}
    for label, ids in nodes.items():
        for node_id in t.tried(ids):
            # what its own answer names opens, by type (a framework it only calls off under may not)
            mine = (label.lower(), node_id) in named
            visible = True if mine else (None if label == "Contract" else False)
            url = f"/v1/entities/{label.lower()}/{quote(node_id, safe='')}"
            t.check(url, t.api.get(url), None, 4, visible=visible)
    for needle in t.tried(set(t.served.names.values())):
        t.check(f"/v1/entities?q={needle}", t.api.get("/v1/entities", params={"q": needle}), None, 4, visible=True,
                echo=needle)
    t.check("/v1/entities", t.api.get("/v1/entities", params={"limit": 500}), None, 4, visible=True)


def test_affiliate_keys_see_only_their_own_answer_in_the_ui_demo(demo: Served) -> None:
    for affiliate in demo.affiliates:
        try_ui(Tenant(demo, affiliate))
    assert not demo.failures, "\n".join(demo.failures[:40])


def test_affiliate_keys_see_only_their_own_answer_in_v1_demo(demo: Served) -> None:
    for affiliate in demo.affiliates:
        try_v1(Tenant(demo, affiliate))
    assert not demo.failures, "\n".join(demo.failures[:40])


def test_what_the_issue_found_is_closed(demo: Served) -> None:
    """AF-LIN's depth-3 network drew AF-STW's contract, and depth 2 the consortium's framework."""
    t = Tenant(demo, "AF-LIN")
    for depth in (2, 3):
        page = t.ui.get(f"/ui/entity/affiliate/AF-LIN/export.json?depth={depth}").json()
        drawn = {n["id"] for n in page["nodes"]}
        assert "Contract:CT-LIN-01" in drawn and "Contract:CT-STW-01" not in drawn
        assert "Contract:CT-TIPO-FW" not in drawn  # on no path of its answer: a property of its call-off only
    assert drawn >= {"Product:PR-OPC450", "Factory:FA-TWP1"}  # its own exposure, three links away
    assert t.ui.get("/ui/exposure/factory/FA-SH2", params={"as_of": AS_OF}).status_code == 404


def test_affiliate_keys_see_only_their_own_answer_generated(generated: Served) -> None:
    for affiliate in generated.affiliates:
        t = Tenant(generated, affiliate)
        assert t.answer(AS_OF, 4)["factories"], f"{affiliate} is exposed to nothing: the test would prove little"
        try_ui(t)
        try_v1(t)
    assert not generated.failures, "\n".join(generated.failures[:40])


def test_the_oracle_sees_a_leak() -> None:
    """The check itself: a page naming another affiliate's contract is reported."""

    page = SimpleNamespace(status_code=200, text=json.dumps({"nodes": ["Contract:CT-STW-01", "Affiliate:AF-LIN"]}),
                           headers={"content-type": "application/json"})

    served = Served(app=None, store=None, keys={}, nodes={"Affiliate": {"AF-LIN", "AF-STW"},  # type: ignore[arg-type]
                    "Contract": {"CT-STW-01"}}, names={"AF-STW": "Municipality of Sternwil"}, affiliates=[])
    t = Tenant.__new__(Tenant)
    t.served, t.own, t.all_ids = served, "AF-LIN", {"AF-LIN", "AF-STW", "CT-STW-01"}
    t.foreign_names = {"Municipality of Sternwil"}
    t._allowed = {(None, 4): {"AF-LIN"}}
    t.check("page", page, None, 4, visible=True)
    assert served.failures and "CT-STW-01" in served.failures[0]
