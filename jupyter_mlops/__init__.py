"""jupyter-mlops: turn notebooks into reproducible, tracked jobs.

Importing this package must stay cheap: it is imported by every runner process,
by the CLI and inside kernels for tracking. Heavy modules (papermill, jupyter_server,
the store's SQL toolkit, torch) are imported where they are used; the tracking API
(``jupyter_mlops.log_metric`` etc., see :mod:`jupyter_mlops.tracking`) is re-exported
lazily.
"""

from __future__ import annotations

from typing import Any

from .exports import TRACKING_API as _TRACKING_API
from .exports import __version__


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MLOpsExtensionApp

    return [{"module": "jupyter_mlops", "app": MLOpsExtensionApp}]


def __getattr__(name: str) -> Any:
    """``jupyter_mlops.log_metric`` & co., imported on first use (PEP 562)."""
    if name in _TRACKING_API:
        from . import tracking

        value = getattr(tracking, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_TRACKING_API])


__all__ = ["__version__", *_TRACKING_API]
