"""Where runner processes execute: ``local`` (detached processes on this machine, queued
for its slots, :mod:`.local`), ``dask`` (workers of a Dask cluster, :mod:`.dask`), or any
other :class:`~jupyter_mlops.backends.base.Backend` (``c.MLOps.backend_class``).

The backends are imported when chosen, not here, so that the configuration can name the
base class (a traitlets ``Type``) without loading a backend and the store behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import RunStore


def backend_class(name: str) -> type[Backend]:
    """The class ``c.MLOps.backend`` names: an alias (``local``, ``dask``) or an import path."""
    from traitlets.utils.importstring import import_item

    from ..config import BACKENDS

    path = BACKENDS.get(name.strip().lower() or "local", name.strip())
    try:
        cls = import_item(path)
    except (ImportError, ValueError) as err:
        raise ValueError(f"unknown backend {name!r}: {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise ValueError(f"backend {name!r} is not a jupyter_mlops.backends.base.Backend")
    return cls


def make_backend(settings: Settings, store: RunStore) -> Backend:
    """The backend ``settings.backend`` names (``c.MLOps.backend`` or ``backend_class``)."""
    return backend_class(settings.backend)(settings, store)
