"""What ``jupyter_mlops`` offers at its top level: the version and the tracking API's names.

This module imports nothing from the package, so the package itself (which re-exports the
tracking API lazily), the server, the CLI and :mod:`jupyter_mlops.tracking` can all read it
without importing one another: the package root never becomes a hub that every part of
the code imports back.
"""

from __future__ import annotations

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only in a source tree that was never built
    __version__ = "0.0.0+unknown"

TRACKING_API = (
    "current_run_id",
    "end_run",
    "flush",
    "load_model",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_params",
    "seed_everything",
    "set_tags",
    "use_dataset",
)
"""The functions of :mod:`jupyter_mlops.tracking`, also offered (lazily) as
``jupyter_mlops.log_metric`` & co."""

__all__ = ["TRACKING_API", "__version__"]
