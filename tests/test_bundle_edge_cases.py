"""Bundles that are unusual but valid by the spec load as the spec says; malformed ones are refused with file and
line and nothing written (both stores). Found by trying real-world CSV shapes against the spec."""

from __future__ import annotations

from pathlib import Path

from supplygraph.loaders.pipeline import load_bundles


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_a_header_only_file_without_a_final_newline_is_an_empty_file(store, tmp_path) -> None:
    """A file that is just its header row (no line break after it, as some editors save it) holds no rows."""
    bundle = write(tmp_path / "b", {"sources.csv": b"source_id,title", "affiliates.csv": b"affiliate_id,name\nAF-1,One\n"})
    load_bundles(store, [bundle])
    assert [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id")] == ["AF-1"]
    assert store.run("MATCH (s:Source) RETURN s.id AS id") == []

