"""``RunStore``: the one object through which every query and transaction of the run
store goes, composed of one part per job.

* :mod:`.runs`: run lifecycle (create, transition, heartbeat, delete);
* :mod:`.queries`: the run list (filters, keyset pagination);
* :mod:`.queue`: the slot queue (positions, locked claims);
* :mod:`.metrics`: metric points, latest values and rollups;
* :mod:`.artifacts`: artifacts, environment, logged params and tags;
* :mod:`.events`: a run's events and the changes behind the event stream;
* :mod:`.inputs`: what runs read (datasets by hash) and the lineage queries over it;
* :mod:`.verifications`: verified reproductions (request and verdict).
* :mod:`.registry`: registered models, versions, aliases and their audit events.

Each part is a :class:`~.base.StoreBase` (engine and sessions), so each module can be read
alone. Beside them: the schedules' own store over the same engine (:mod:`.schedules`,
:mod:`.schedule_fires`), lost-run reconciliation (:mod:`.lost`) and the advisory locks
between processes (:mod:`.locks`).
"""

from __future__ import annotations

from ..config import Settings
from .artifacts import ArtifactStore
from .events import EventQueries
from .inputs import InputStore
from .metrics import MetricStore
from .queries import RunSearch
from .registry import RegistryStore
from .runs import RunLifecycle
from .verifications import VerificationStore

__all__ = ["RunStore"]


class RunStore(
    RunLifecycle,
    RunSearch,
    EventQueries,
    MetricStore,
    ArtifactStore,
    InputStore,
    VerificationStore,
    RegistryStore,
):
    """The run store over one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RunStore:
        return cls(settings.resolved_db_url)
