"""Where runner processes execute: ``local`` (detached processes on this machine, queued
for its slots) or ``dask`` (workers of a Dask cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend, LaunchHandle
from .local import LocalBackend

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import RunStore

__all__ = ["Backend", "LaunchHandle", "LocalBackend", "make_backend"]


def make_backend(settings: Settings, store: RunStore) -> Backend:
    """The backend ``settings.backend`` names (``c.MLOps.backend``)."""
    name = (settings.backend or "local").lower()
    if name == "local":
        return LocalBackend(settings, store)
    if name == "dask":
        from .dask import DaskBackend

        return DaskBackend(settings, store)
    raise ValueError(f"unknown backend {settings.backend!r}; choose 'local' or 'dask'")
