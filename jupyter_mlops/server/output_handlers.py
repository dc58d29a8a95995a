"""A run's live output so far, from a cursor (``GET /runs/{id}/output?after=SEQ``).

New output is announced on the event stream (``output`` events, see
:mod:`jupyter_mlops.server.events`); a client then asks here from its last ``seq``, so a
reconnect or a missed event never duplicates or loses a line.
"""

from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..input_rules import parse_bound
from ..runner_live_output import LIVE_OUTPUT_ARTIFACT
from ..store import RunStatus, RunStore
from ..store.output import OUTPUT_PAGE_LIMIT
from .base import MLOpsHandler
from .models import RunOutput
from .spec import BAD_REQUEST, FORBIDDEN, NOT_FOUND, RUN_ID, PathItems, json_response, query


def run_output(store: RunStore, run_id: str, after: int, limit: int) -> dict[str, Any]:
    """The page of ``run_id``'s output after ``after``. The status is read first: the
    runner stores its last output before the terminal status, so "ended and nothing more
    on this page" means complete."""
    run = store.require_run(run_id)
    chunks = store.output_since(run_id, after, limit)
    ended = RunStatus(run.status).is_terminal
    full = store.get_artifact(run_id, LIVE_OUTPUT_ARTIFACT) if ended else None
    return RunOutput(
        run_id=run_id,
        status=run.status,
        chunks=[
            {
                "seq": c.seq,
                "cell_index": c.cell_index,
                "stream": c.stream,
                "text": c.text,
                "at": c.at,
            }
            for c in chunks
        ],
        next_after=chunks[-1].seq if chunks else after,
        complete=ended and len(chunks) < limit,
        full_output=full.name if full is not None else None,
    ).to_json()


class RunOutputHandler(MLOpsHandler):
    """What a run's cells printed, from a cursor."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        try:
            after = parse_bound(self.get_argument("after", None), "after", 0, 0, 2**31 - 1)
            limit = parse_bound(
                self.get_argument("limit", None), "limit", OUTPUT_PAGE_LIMIT, 1, OUTPUT_PAGE_LIMIT
            )
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        self.send_json(await self.blocking(run_output, self.mlops.store, run_id, after, limit))


PATHS: PathItems = {
    "/runs/{run_id}/output": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getRunOutput",
            "summary": "What a run's cells printed so far, after a cursor",
            "description": "Chunks in order (stdout, stderr, results, errors), bounded per "
            "cell and per run by the server's `output_cell_max_bytes` and "
            "`output_run_max_bytes`: past a cap one `notice` chunk says so, and the full "
            "text is the run's `logs/output.txt` artifact. New output is announced by "
            "`output` events on `/events`; ask again with `after` = `next_after`.",
            "parameters": [
                query(
                    "after",
                    {"type": "integer", "minimum": 0, "default": 0},
                    "Return the chunks after this `seq` (0: from the start).",
                ),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000},
                    "Most chunks to return.",
                ),
            ],
            "responses": {
                "200": json_response("A page of the run's output", RunOutput),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
