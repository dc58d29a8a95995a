"""The route table of ``/mlops/api/`` and the OpenAPI paths of its handlers."""

from __future__ import annotations

from .artifact_handlers import PATHS as ARTIFACT_PATHS
from .artifact_handlers import ArtifactHandler, ExecutedNotebookHandler, HTMLHandler
from .base import MLOpsHandler, NotFoundHandler
from .code_handlers import PATHS as CODE_PATHS
from .code_handlers import RunCodeHandler
from .info_handlers import PATHS as INFO_PATHS
from .info_handlers import HealthHandler, KernelsHandler, NotebookParametersHandler
from .metric_handlers import PATHS as METRIC_PATHS
from .metric_handlers import MetricSeriesHandler, MetricsHandler, RunMetricsHandler
from .run_handlers import PATHS as RUN_PATHS
from .run_handlers import (
    CancelHandler,
    ReproduceHandler,
    RunDiffHandler,
    RunHandler,
    RunsHandler,
)
from .schedule_handlers import PATHS as SCHEDULE_PATHS
from .schedule_handlers import schedule_handlers
from .spec import PathItems
from .stream_handlers import PATHS as STREAM_PATHS
from .stream_handlers import EventsHandler

Routes = list[tuple[str, type[MLOpsHandler]]]


def handlers(base_url: str) -> Routes:
    """Every API route: the schedule routes, the run routes, then the catch-all JSON 404."""
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    run = r"runs/(?P<run_id>[0-9a-f]{1,32})"
    routes: Routes = [
        ("health", HealthHandler),
        ("runs", RunsHandler),
        (run, RunHandler),
        (f"{run}/cancel", CancelHandler),
        (f"{run}/reproduce", ReproduceHandler),
        (f"{run}/diff/(?P<other_id>[0-9a-f]{{1,32}})", RunDiffHandler),
        (f"{run}/artifacts/(?P<name>.+)", ArtifactHandler),
        (f"{run}/notebook", ExecutedNotebookHandler),
        (f"{run}/html", HTMLHandler),
        (f"{run}/code", RunCodeHandler),
        (f"{run}/metrics", RunMetricsHandler),
        (f"{run}/metrics/(?P<key>.+)", MetricSeriesHandler),
        ("metrics", MetricsHandler),
        ("notebooks/parameters", NotebookParametersHandler),
        ("kernels", KernelsHandler),
        ("events", EventsHandler),
    ]
    return [
        *schedule_handlers(base_url),
        *((url_path_join(api, path), handler) for path, handler in routes),
        (url_path_join(api, "(?P<rest>.*)"), NotFoundHandler),
    ]


def api_paths() -> PathItems:
    """The OpenAPI ``paths`` of every endpoint, in the order the document lists them."""
    return {
        **INFO_PATHS,
        **RUN_PATHS,
        **ARTIFACT_PATHS,
        **CODE_PATHS,
        **METRIC_PATHS,
        **STREAM_PATHS,
        **SCHEDULE_PATHS,
    }
