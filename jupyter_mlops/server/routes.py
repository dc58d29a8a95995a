"""The route table of ``/mlops/api/`` and the OpenAPI paths of its handlers."""

from __future__ import annotations

from .artifact_handlers import PATHS as ARTIFACT_PATHS
from .artifact_handlers import ArtifactHandler, ExecutedNotebookHandler, HTMLHandler
from .base import MLOpsHandler, NotFoundHandler
from .code_handlers import PATHS as CODE_PATHS
from .code_handlers import RunCodeHandler
from .dataset_handlers import PATHS as DATASET_PATHS
from .dataset_handlers import ContentLineageHandler, DatasetsHandler, RunLineageHandler
from .info_handlers import PATHS as INFO_PATHS
from .info_handlers import HealthHandler, KernelsHandler, NotebookParametersHandler
from .metric_handlers import PATHS as METRIC_PATHS
from .metric_handlers import MetricSeriesHandler, MetricsHandler, RunMetricsHandler
from .model_handlers import MODEL_NAME_PATTERN, model_routes
from .model_handlers import PATHS as MODEL_PATHS
from .output_handlers import PATHS as OUTPUT_PATHS
from .output_handlers import RunOutputHandler
from .pipeline_handlers import PATHS as PIPELINE_PATHS
from .pipeline_handlers import pipeline_handlers
from .run_handlers import PATHS as RUN_PATHS
from .run_handlers import (
    CancelHandler,
    InputDriftHandler,
    ReproduceHandler,
    RunDiffHandler,
    RunHandler,
    RunsHandler,
)
from .schedule_handlers import PATHS as SCHEDULE_PATHS
from .schedule_handlers import schedule_handlers
from .search_handlers import PATHS as SEARCH_PATHS
from .search_handlers import RunKeysHandler
from .spec import PathItems
from .stream_handlers import PATHS as STREAM_PATHS
from .stream_handlers import EventsHandler
from .trigger_handlers import PATHS as TRIGGER_PATHS
from .trigger_handlers import trigger_routes

Routes = list[tuple[str, type[MLOpsHandler]]]


def handlers(base_url: str) -> Routes:
    """Every API route: the schedule routes, the run routes, then the catch-all JSON 404."""
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    run = r"runs/(?P<run_id>[0-9a-f]{1,32})"
    routes: Routes = [
        ("health", HealthHandler),
        ("runs", RunsHandler),
        ("runs/keys", RunKeysHandler),
        (run, RunHandler),
        (f"{run}/cancel", CancelHandler),
        (f"{run}/reproduce", ReproduceHandler),
        (f"{run}/diff/(?P<other_id>[0-9a-f]{{1,32}})", RunDiffHandler),
        (f"{run}/input-drift/(?P<other_id>[0-9a-f]{{1,32}})", InputDriftHandler),
        (f"{run}/artifacts/(?P<name>.+)", ArtifactHandler),
        (f"{run}/notebook", ExecutedNotebookHandler),
        (f"{run}/html", HTMLHandler),
        (f"{run}/output", RunOutputHandler),
        (f"{run}/code", RunCodeHandler),
        (f"{run}/metrics", RunMetricsHandler),
        (f"{run}/metrics/(?P<key>.+)", MetricSeriesHandler),
        ("metrics", MetricsHandler),
        ("notebooks/parameters", NotebookParametersHandler),
        ("kernels", KernelsHandler),
        ("events", EventsHandler),
        *trigger_routes(),
        (f"{run}/lineage", RunLineageHandler),
        ("lineage/(?P<sha256>[^/]+)", ContentLineageHandler),
        ("datasets", DatasetsHandler),
        *model_routes(MODEL_NAME_PATTERN),
    ]
    return [
        *schedule_handlers(base_url),
        *pipeline_handlers(base_url),
        *((url_path_join(api, path), handler) for path, handler in routes),
        (url_path_join(api, "(?P<rest>.*)"), NotFoundHandler),
    ]


def api_paths() -> PathItems:
    """The OpenAPI ``paths`` of every endpoint, in the order the document lists them."""
    return {
        **INFO_PATHS,
        **RUN_PATHS,
        **SEARCH_PATHS,
        **ARTIFACT_PATHS,
        **CODE_PATHS,
        **METRIC_PATHS,
        **OUTPUT_PATHS,
        **STREAM_PATHS,
        **SCHEDULE_PATHS,
        **TRIGGER_PATHS,
        **DATASET_PATHS,
        **MODEL_PATHS,
        **PIPELINE_PATHS,
    }
