"""The exposure view shows the basis: matched links dashed, brand-list links dotted, and in words whose
published supplier list an answer was inferred from (both stores, the demo's AF-KST)."""

from __future__ import annotations

from datetime import date

from supplygraph.api.ui.exposure_view import exposure_drawing
from supplygraph.api.ui.network import BASIS_EDGES
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO


def test_exposure_view_draws_and_says_the_basis(store) -> None:
    load_bundles(store, [DEMO])
    drawing = exposure_drawing(store, "affiliate", "AF-KST", date(2026, 6, 1))
    styled = {(e["from"], e["to"]): e.get("dashes") for e in drawing.edges}
    assert styled[("Contract:CT-KST-01", "Product:PR-AER14")] == BASIS_EDGES["matched"]["dashes"]
    assert styled[("Item:KST-01-2", "Company:CO-VEL")] == BASIS_EDGES["brand_list"]["dashes"]
    assert styled[("Company:CO-VEL", "Factory:FA-JED")] == BASIS_EDGES["brand_list"]["dashes"]
    assert styled[("Product:PR-AER14", "Factory:FA-SH2")] is None  # the disclosed assembly link stays solid
    jed = next(a for a in drawing.answers if a["kind"] == "factory" and a["id"] == "FA-JED")
    assert jed["text"].endswith("inferred from Velmora Systems B.V.'s published supplier list (source SRC-16)")
    disclosed = exposure_drawing(store, "affiliate", "AF-LIN", date(2026, 6, 1))
    assert all("dashes" not in e or e["to"].startswith("Finding:") for e in disclosed.edges)
