"""The run search of ``GET /runs`` (``filter``, ``order_by``) and the known keys.

With ``filter`` or ``order_by`` the list is read by :meth:`RunStore.query_runs` (the run
search language of :mod:`jupyter_mlops.search_syntax`, any order, keyset pages); a
mistake answers 400 with the message and the column it is at, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..search_syntax import SearchSyntaxError
from .base import APIError, MLOpsHandler
from .models.search import RunKeys, SearchError
from .spec import FORBIDDEN, PathItems, json_response

LEGACY_FILTERS = ("status", "notebook", "tag", "param", "q")


def search_arguments(handler: MLOpsHandler, text: str, order_by: str) -> tuple[str, str] | None:
    """(filter, order_by) when the request uses the search language, else None; refuses a
    mix with the older filters, which ``filter`` expresses."""
    if not text.strip() and not order_by.strip():
        return None
    mixed = [name for name in LEGACY_FILTERS if handler.get_arguments(name)]
    if mixed:
        raise APIError(
            400,
            f"filter and order_by cannot be combined with {', '.join(mixed)}: write it into "
            "filter instead (status = 'failed', tags.team = 'nlp', params.lr = 0.1, "
            "notebook LIKE '%train%')",
            field="filter",
        )
    return text, order_by


def _parse_error(text: str, order_by: str) -> APIError | None:
    """A syntax error in ``filter`` or ``order_by``, found before any query (parsing takes
    microseconds, so it runs on the event loop)."""
    from ..search_syntax import parse_filter, parse_order_by

    for field, parse, value in (
        ("filter", parse_filter, text),
        ("order_by", parse_order_by, order_by),
    ):
        try:
            parse(value)
        except SearchSyntaxError as err:
            return APIError(400, f"{field}: {err}", column=err.column, field=field)
    return None


async def search_page(
    handler: MLOpsHandler,
    arguments: tuple[str, str],
    limit: int,
    cursor: str | None,
    finish: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of the search, turned into the response by ``finish`` (in the thread)."""
    text, order_by = arguments
    problem = _parse_error(text, order_by)
    if problem is not None:
        raise problem
    store = handler.mlops.store

    def load() -> dict[str, Any]:
        page = store.query_runs(filter=text, order_by=order_by, limit=limit, cursor=cursor)
        return finish(page)

    try:
        return await handler.blocking(load)
    except SearchSyntaxError as err:  # found while compiling: an unknown status
        raise APIError(400, f"filter: {err}", column=err.column, field="filter") from None
    except ValueError as err:  # the store's only other complaint: the cursor
        raise APIError(400, str(err), field="cursor") from None


class RunKeysHandler(MLOpsHandler):
    """Names for the runs table's column chooser."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        keys = await self.blocking(self.mlops.store.known_keys)
        self.send_json(RunKeys(**keys))


PATHS: PathItems = {
    "/runs/keys": {
        "get": {
            "operationId": "listRunKeys",
            "summary": "Parameter, metric and tag names of the stored runs (column chooser)",
            "responses": {
                "200": json_response("The names, sorted", RunKeys),
                "403": FORBIDDEN,
            },
        }
    }
}

SEARCH_ERROR = json_response(
    "A bad filter, order_by or cursor (the message says where), or another bad query",
    SearchError,
)
