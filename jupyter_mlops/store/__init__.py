"""The run store: typed ORM tables, Alembic migrations and the ``RunStore`` queries."""

from . import models_triggers  # noqa: F401  (its tables join the metadata)
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, Artifact, Run, RunEvent, RunStatus
from .models_inputs import RunInputRecord
from .queries import RunPage
from .runs import RunNotFound
from .store import RunStore

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "Artifact",
    "Run",
    "RunEvent",
    "RunInputRecord",
    "RunNotFound",
    "RunPage",
    "RunStatus",
    "RunStore",
]
