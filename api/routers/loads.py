"""POST /v1/loads: admin keys load a bundle (a .zip, as the request body), all or nothing, while the API serves.

The embedded store writes a new generation and swaps it in; requests running meanwhile finish on the
old one, the next ones see the new one. A bad bundle is a 422 problem listing every problem found.
"""

from __future__ import annotations

import re
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from supplygraph.api.deps import Admin, State
from supplygraph.api.problems import ApiError
from supplygraph.api.resource_models import LoadOut
from supplygraph.api.routers.common import problems
from supplygraph.graph.temp_folders import make_temp_folder
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.zip_limits import ZipLimits

router = APIRouter(tags=["loads"])
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
MAX_REJECTS = 1000  # rejected records listed in the answer (`skipped` counts them all)


@router.post(
    "/v1/loads",
    response_model=LoadOut,
    responses=problems(403, 409, 413),
    summary="Load a bundle (.zip body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def load(
    request: Request,
    caller: Admin,
    app_state: State,
    name: Annotated[str, Query(pattern=NAME, description="the bundle's name; loading a name again replaces it")],
    fresh: Annotated[bool, Query(description="forget every bundle loaded before")] = False,
    dry_run: Annotated[bool, Query(description="validate and report; write nothing")] = False,
    skip_invalid: Annotated[
        bool, Query(description="load every valid record; return the invalid ones (and those referring to them)")
    ] = False,
) -> dict[str, Any]:
    """Validate the zipped bundle and load it (the format: docs/bundle-format.md in the repository)."""
    settings = app_state.settings
    limit = settings.max_upload_mb * 2**20
    folder = make_temp_folder("upload")  # named after this process: a crash leaves it for the next start to remove
    try:
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.zip"
        size = 0
        with path.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(settings.max_upload_mb)
                fh.write(chunk)
        shared = app_state.access.store
        store = shared.for_load()
        limits = ZipLimits.from_settings(settings)
        try:
            report = await run_in_threadpool(
                load_bundles,
                store,
                [path],
                fresh=fresh,
                dry_run=dry_run,
                names=[name],
                skip_invalid=skip_invalid,
                limits=limits,
            )
        finally:
            if store is not shared:
                store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "bundles": report.bundles,
        "rows_read": report.rows_read,
        "nodes": report.nodes,
        "relationships": report.relationships,
        "seconds": round(report.seconds, 3),
        "warnings": [str(w) for w in report.warnings],
        "written": report.written,
        "skipped": report.skipped,
        "rejects": [{k: v for k, v in r.items() if k != "input"} for r in report.rejects[:MAX_REJECTS]],
        "generation": app_state.access.current_generation(),
    }


def _too_large(max_mb: int) -> ApiError:
    return ApiError(
        413, "Too large", f"a bundle upload may have at most {max_mb} MB; raise SUPPLYGRAPH_MAX_UPLOAD_MB to allow more"
    )
