"""jupyter-mlops: turn notebooks into reproducible, tracked jobs.

Importing this package must stay cheap: it is imported by every runner process,
by the CLI and, later, inside kernels for tracking. Heavy modules (papermill,
jupyter_server, sqlalchemy) are imported where they are used.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only in a source tree that was never built
    __version__ = "0.0.0+unknown"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MLOpsExtensionApp

    return [{"module": "jupyter_mlops", "app": MLOpsExtensionApp}]


__all__ = ["__version__"]
