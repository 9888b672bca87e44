"""Tables kept on disk as Arrow IPC files (uncompressed): written in batches, read memory-mapped, and spilled
to temporary files while they are built, so that building a large table does not hold it on the heap."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from supplygraph.graph.temp_folders import make_temp_folder


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


SPILL_BYTES = 32 << 20  # tables larger than this are kept in memory-mapped files, not in the heap
BATCH = 100_000  # rows per record batch written
_spill: list[Path] = []


def spill_file() -> str:
    if not _spill:
        folder = make_temp_folder("tables")
        atexit.register(shutil.rmtree, folder, True)
        _spill.append(folder)
    fd, name = tempfile.mkstemp(suffix=".arrow", dir=_spill[0])
    os.close(fd)
    return name


class Spill:
    """A table built piece by piece (pieces of one schema): kept in memory while small, else written to a
    temporary file as the pieces come and memory-mapped at the end (pages the kernel can drop), so building
    it holds one piece, not the table."""

    def __init__(self, schema: pa.Schema | None = None) -> None:
        self.schema = schema
        self.pieces: list[pa.Table] = []
        self.held = 0
        self.name: str | None = None
        self.sink: pa.NativeFile | None = None
        self.writer: pa.ipc.RecordBatchFileWriter | None = None

    def add(self, piece: pa.Table) -> None:
        if self.schema is None:
            self.schema = piece.schema
        elif piece.schema != self.schema:
            piece = piece.select(self.schema.names).cast(self.schema)
        if self.writer is not None:
            self.writer.write_table(piece)
            return
        self.pieces.append(piece)
        self.held += piece.nbytes
        if self.held >= SPILL_BYTES:
            self.name = spill_file()
            self.sink = pa.OSFile(self.name, "wb")
            self.writer = pa.ipc.new_file(self.sink, self.schema)
            for kept in self.pieces:
                self.writer.write_table(kept)
            self.pieces = []

    def table(self) -> pa.Table:
        if self.writer is None or self.sink is None or self.name is None:
            assert self.schema is not None
            return pa.Table.from_batches([b for p in self.pieces for b in p.to_batches()], self.schema)
        self.writer.close()
        self.sink.close()
        mapped = pa.ipc.open_file(pa.memory_map(self.name)).read_all()
        os.unlink(self.name)  # the mapping stays valid; the space is freed with the table
        return mapped


def spilled(table: pa.Table, piece: Callable[[pa.Table], pa.Table]) -> pa.Table:
    """`piece` of each batch of `table` (of an empty table when it has no rows), gathered in a Spill."""
    spill = Spill()
    for batch in table.to_batches(max_chunksize=BATCH) or [pa.RecordBatch.from_pylist([], table.schema)]:
        spill.add(piece(pa.Table.from_batches([batch])))
    return spill.table()
