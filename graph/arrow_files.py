"""Tables kept on disk as Arrow IPC files (uncompressed), written in batches and read memory-mapped."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from supplygraph.graph.tables import BATCH


def write_arrow_file(file: str | Path, table: pa.Table) -> None:
    """`table` as an Arrow IPC file, without empty record batches (LadybugDB's COPY stops at the first one)."""
    with pa.OSFile(str(file), "wb") as fh:
        with pa.ipc.new_file(fh, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=BATCH):
                if batch.num_rows:
                    writer.write_batch(batch)


def read_arrow_file(path: str | Path) -> pa.Table:
    """A stored table memory-mapped: readers share its pages instead of copying it to the heap."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()
