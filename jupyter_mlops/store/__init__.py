"""The run store: typed ORM tables, Alembic migrations and the ``RunStore`` queries."""

from . import models_pipelines  # noqa: F401  (its tables join Base.metadata)
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, Artifact, Run, RunEvent, RunStatus
from .queries import RunPage
from .runs import RunNotFound
from .store import RunStore

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "Artifact",
    "Run",
    "RunEvent",
    "RunNotFound",
    "RunPage",
    "RunStatus",
    "RunStore",
]
