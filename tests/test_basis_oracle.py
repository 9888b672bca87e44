"""Exposure with a basis (bundle 1.1) equals the independent oracle (tests/oracle.py), on both stores:
generated bundles mixing disclosed, matched and brand-list paths, every basis, several days, depth 1-5."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates
from supplygraph.queries.steps import CypherSteps

from tests import oracle
from tests.strategies import bundles_11, query_dates, write_bundle

RANK = {b: i for i, b in enumerate(oracle.BASES)}


def basis_sets(answer) -> dict:
    return {
        "factories": {f["id"]: (f["tier"], f["basis"]) for f in answer.factories},
        "agencies": {a["id"]: a["basis"] for a in answer.agencies},
        "findings": {f["id"]: f["basis"] for f in answer.findings},
        "gaps": {g["item"]: g["brand_list"] for g in answer.gaps},
    }


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(rows=bundles_11(), data=st.data())
def test_exposure_with_basis_equals_oracle(store_factory, rows, data) -> None:
    store = store_factory()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "generated"
        write_bundle(rows, folder)
        load_bundles(store, [folder], fresh=True)
        back = oracle.read_bundle(folder)
    days = [data.draw(query_dates(rows)) for _ in range(3)]
    depth = data.draw(st.integers(1, 5))
    for day in days:
        for affiliate in sorted(r["affiliate_id"] for r in back["affiliates"]):
            answer = exposure_for_affiliate(store, affiliate, day, depth)
            expected = oracle.exposure_oracle_11(back, affiliate, day, depth)
            assert basis_sets(answer) == expected, (affiliate, day, depth)
            for f in answer.factories:
                assert f["path"][0] == affiliate and f["path"][-1] == f["id"]
                if f["basis"] == "brand_list":
                    assert f["listed"]["brand"] in f["path"]
            minimum = data.draw(st.sampled_from(oracle.BASES))
            narrow = basis_sets(exposure_for_affiliate(store, affiliate, day, depth, min_basis=minimum))
            for section in ("factories", "agencies", "findings"):
                kept = {
                    k: v
                    for k, v in expected[section].items()
                    if RANK[v[1] if isinstance(v, tuple) else v] <= RANK[minimum]
                }
                assert narrow[section] == kept
            assert narrow["gaps"] == expected["gaps"]  # gaps always listed
    affiliates = sorted(r["affiliate_id"] for r in back["affiliates"])
    answers = {a: oracle.exposure_oracle_11(back, a, days[0], depth) for a in affiliates}
    targets = [("factory", f["factory_id"], "factories") for f in back["factories"][:6]]
    targets += [("finding", f["finding_id"], "findings") for f in back["findings"]]
    for kind, target, section in targets:
        reverse = exposed_affiliates(store, kind, target, days[0], depth)
        want = {}
        for a, ex in answers.items():
            if target in ex[section]:
                found = ex[section][target]
                want[a] = found[1] if isinstance(found, tuple) else found
        assert {e["id"]: e["basis"] for e in reverse.affiliates} == want, (kind, target)
        assert reverse.leverage["by_basis"] == {b: list(want.values()).count(b) for b in oracle.BASES}
    affiliate = affiliates[0]
    plain = exposure_for_affiliate(store, affiliate, days[0], depth, steps=CypherSteps(store)).as_json()
    assert plain == exposure_for_affiliate(store, affiliate, days[0], depth).as_json()
