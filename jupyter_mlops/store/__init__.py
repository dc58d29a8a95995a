"""The run store: typed ORM tables, Alembic migrations and the ``RunStore`` queries."""

# Modules whose tables join the metadata (the migrations and the schema check read it).
from . import (  # noqa: F401
    models_output,
    models_pipelines,
    models_search,
    models_triggers,
)
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
