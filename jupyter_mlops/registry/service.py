"""Register, resolve and load model versions; policies and deletion.

The one path the CLI, the REST handlers and the tracking API take, so a version registered
from a notebook and one registered from the browser are recorded the same way.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from ..config import Settings
from .requirements import parse_requirements
from .uris import ModelURI, check_alias, check_model_name, is_model_uri, parse_model_uri

if TYPE_CHECKING:
    from ..store import RunStore
    from ..store.models_registry import ModelVersion


class WeightsChanged(RuntimeError):
    """The stored bytes of a version no longer have the digest it was registered with."""


def resolve_version(store: RunStore, uri: ModelURI | str) -> ModelVersion:
    """The version a model URI names (``models:/churn@production``, ``models:/churn/3``)."""
    parsed = parse_model_uri(uri) if isinstance(uri, str) else uri
    if parsed.alias is not None:
        return store.version_by_alias(parsed.name, parsed.alias)
    assert parsed.version is not None
    return store.get_version(parsed.name, parsed.version)


def read_weights(settings: Settings, version: ModelVersion) -> bytes:
    """The version's stored bytes, checked against the digest it was registered with: what
    is served is exactly what was registered (and validated)."""
    from ..artifacts import open_artifact_store

    with open_artifact_store(settings).open(version.sha256) as stream:
        data = stream.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != version.sha256:
        raise WeightsChanged(
            f"the stored weights of version {version.version} have digest {digest}, not "
            f"{version.sha256} as registered"
        )
    return data


def load_weights(data: bytes | BinaryIO, model: Any = None, *, map_location: Any = "cpu") -> Any:
    """A state dict from ``torch.save`` bytes or a binary stream of them
    (``weights_only``), loaded into ``model`` (a module, or a class built without
    arguments) when one is given: what ``load_model`` does for runs and versions alike."""
    import torch

    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    state = torch.load(stream, map_location=map_location, weights_only=True)
    if model is None:
        return state
    if isinstance(model, type):
        model = model()
    model.load_state_dict(state)
    return model


def load_registered_model(
    uri: str, model: Any = None, *, map_location: Any = "cpu", settings: Settings | None = None
) -> Any:
    """``load_model("models:/...")``: resolve through the store, read from the artifact
    root (a directory or an fsspec URL), check the digest, load."""
    settings = settings or Settings.from_env()
    version = resolve_version(serving_store(settings), uri)
    return load_weights(read_weights(settings, version), model, map_location=map_location)


_SERVING_STORES: dict[tuple[int, str], RunStore] = {}


def serving_store(settings: Settings) -> RunStore:
    """One store per process and database for :func:`load_registered_model`: serving code
    loads models again and again, and a new engine per call would pay for connecting and
    compiling its query every time (about 100 ms against 5)."""
    from ..store import RunStore

    key = (os.getpid(), settings.resolved_db_url)
    store = _SERVING_STORES.get(key)
    if store is None:
        store = _SERVING_STORES[key] = RunStore.from_settings(settings)
    return store


def check_policy(validate: str, require: Sequence[str], seed: int | None = None) -> dict[str, Any]:
    """A policy as stored: the requirements must parse (a clear error before anything)."""
    if not validate or not validate.endswith(".ipynb"):
        raise ValueError(f"--validate must name a notebook (.ipynb), got {validate!r}")
    if not require:
        raise ValueError("a policy needs at least one requirement (--require)")
    parse_requirements(require)
    policy: dict[str, Any] = {"validate": validate, "require": list(require)}
    if seed is not None:
        policy["seed"] = seed
    return policy


class RegistryService:
    """Registry operations over one store, with the identity of whoever asks."""

    def __init__(self, settings: Settings, store: RunStore) -> None:
        self.settings = settings
        self.store = store

    def register(
        self,
        run_id: str,
        artifact: str,
        name: str,
        *,
        actor: str,
        description: str = "",
    ) -> ModelVersion:
        check_model_name(name)
        full_id = self.store.resolve_run_id(run_id)
        return self.store.register_version(
            name, full_id, artifact, actor=actor, description=description
        )

    def resolve(self, uri: str) -> ModelVersion:
        """A version by URI, also without the scheme (``churn@production``, ``churn/3``)."""
        parsed = parse_model_uri(uri, scheme_optional=not is_model_uri(uri))
        return resolve_version(self.store, parsed)

    def set_policy(
        self, name: str, validate: str, require: Sequence[str], *, actor: str, seed: int | None
    ) -> dict[str, Any]:
        policy = check_policy(validate, require, seed)
        self.store.set_policy(name, policy, actor=actor)
        return policy

    def force_alias(self, name: str, alias: str, version: int, *, actor: str, reason: str) -> Any:
        """Move the alias without validation, recorded as forced with the reason."""
        check_alias(alias)
        if not reason or not reason.strip():
            raise ValueError("a forced promotion needs a reason (--reason TEXT)")
        self.store.get_version(name, version)  # unknown version: a clear error
        holder = self.store.alias_holder(name, alias)
        return self.store.move_alias(
            name,
            alias,
            version,
            expected=holder,
            actor=actor,
            action="promotion_forced",
            reason=reason.strip(),
        )

    def delete(self, name: str, version: int | None, *, actor: str, reason: str | None) -> None:
        if version is None:
            self.store.delete_model(name, actor=actor, reason=reason)
        else:
            self.store.delete_version(name, version, actor=actor, reason=reason)
