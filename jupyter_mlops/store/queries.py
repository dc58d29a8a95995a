"""The run list query: filters, newest first, keyset pagination on ``(created_at, id)``.

One query serves :meth:`RunStore.list_runs` (CLI, run history) and
:meth:`RunStore.search_runs` (the REST list, which adds parameter and text filters).
The page and its cursor are defined here, with the query that reads them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, or_, select

from .models import Run, RunParam, RunTag
from .queue import SlotQueue
from .run_rows import RunRow, list_columns, run_rows
from .search_filter import param_value_in


@dataclass(frozen=True)
class RunPage:
    """One page of runs, as list rows (:class:`RunRow`: no ORM instances; a detail
    view reads the run itself)."""

    runs: list[RunRow]
    next_cursor: str | None


def _encode_cursor(run: RunRow) -> str:
    return f"{run.created_at.timestamp():.6f}:{run.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, run_id = cursor.split(":", 1)
        return datetime.fromtimestamp(float(stamp), tz=timezone.utc), run_id
    except ValueError as err:
        raise ValueError(f"malformed cursor {cursor!r}") from err


@dataclass(frozen=True)
class ParamFilter:
    """``name:value``: the run's parameter ``name`` equals the JSON ``value``."""

    name: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> ParamFilter:
        """``lr:0.5`` -> 0.5, ``layers:[1,2]`` -> [1, 2]; text that is not JSON is a
        string (``name:baseline``); quote it to match a string that looks like JSON
        (``name:"3"``)."""
        name, sep, raw = text.partition(":")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"param filter {text!r} must look like name:value (e.g. lr:0.5)")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        return cls(name, value)

    def json_forms(self) -> list[str]:
        """Every ``value_json`` text that means this value (``1`` and ``1.0`` are equal)."""
        value = self.value
        forms = {json.dumps(value)}
        if isinstance(value, int) and not isinstance(value, bool):
            forms.add(json.dumps(float(value)))
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            forms.add(json.dumps(int(value)))
        return sorted(forms)


class RunSearch(SlotQueue):
    """The run list of :class:`~jupyter_mlops.store.RunStore`, with queue positions."""

    def search_runs(
        self,
        *,
        status: Sequence[str] = (),
        notebook: str | Sequence[str] | None = None,
        tags: Sequence[str] = (),
        params: Sequence[ParamFilter] = (),
        text: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs matching every filter, newest first: any of ``status``, all of ``tags`` and
        ``params``, and ``text`` as a case-insensitive substring of the notebook path, the
        id or a tag; queued runs carry their queue position."""
        query = select(*list_columns())
        if status:
            query = query.where(Run.status.in_(list(status)))
        if notebook:  # any of the names (notebook.identity.notebook_names gives them all)
            names = [notebook] if isinstance(notebook, str) else list(notebook)
            query = query.where(or_(Run.notebook_path.in_(names), Run.notebook_abspath.in_(names)))
        for tag in tags:
            query = query.where(Run.id.in_(select(RunTag.run_id).where(RunTag.tag == tag)))
        for param in params:
            query = query.where(
                Run.id.in_(
                    select(RunParam.run_id).where(
                        RunParam.name == param.name,
                        param_value_in(RunParam.value_json, param.json_forms()),
                    )
                )
            )
        if text:
            query = query.where(
                or_(
                    Run.notebook_path.icontains(text, autoescape=True),
                    Run.id.icontains(text, autoescape=True),
                    Run.id.in_(
                        select(RunTag.run_id).where(RunTag.tag.icontains(text, autoescape=True))
                    ),
                )
            )
        if cursor:
            created_at, run_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Run.created_at < created_at,
                    and_(Run.created_at == created_at, Run.id < run_id),
                )
            )
        query = query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
        with self.reading() as session:
            runs = run_rows(session, session.execute(query).all())
        next_cursor = _encode_cursor(runs[limit - 1]) if len(runs) > limit else None
        page = RunPage(runs=runs[:limit], next_cursor=next_cursor)
        self.annotate_queue_positions(page.runs)
        return page

    def list_runs(
        self,
        *,
        status: Sequence[str] | None = None,
        notebook: str | Sequence[str] | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Newest first, keyset-paginated on (created_at, id) so deep pages stay fast;
        queued runs carry their queue position."""
        tags = [tag] if tag else ()
        return self.search_runs(
            status=status or (), notebook=notebook, tags=tags, limit=limit, cursor=cursor
        )
