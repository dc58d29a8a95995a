"""Models as artifacts: a torch module's weights saved to a file and loaded back.

``torch.save`` of ``model.state_dict()`` (tensors moved to the CPU) into the
content-addressed artifact store, so the same weights logged by two runs are stored
once. The artifact's ``meta`` records the architecture (``module.qualname``), parameter
counts, dtypes, torch version and sha256. Classes named in the store are never imported
for the caller: loading needs the module or the class.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..config import Settings


@contextlib.contextmanager
def saved_model(model: Any) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``model``'s state dict (or ``model`` itself, a state dict) saved on the CPU to a
    temporary file, and its meta; the file is removed when the block ends."""
    import torch

    state = model.state_dict() if hasattr(model, "state_dict") else model
    if not isinstance(state, Mapping):
        raise TypeError("log_model expects a torch.nn.Module or a state dict")
    cpu_state = {
        k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state.items()
    }
    meta: dict[str, Any] = {"format": "torch.state_dict", "torch_version": torch.__version__}
    if isinstance(model, torch.nn.Module):
        cls = type(model)
        meta["architecture"] = f"{cls.__module__}.{cls.__qualname__}"
        meta["module"] = cls.__module__
        meta["qualname"] = cls.__qualname__
        meta["parameters"] = sum(p.numel() for p in model.parameters())
        meta["trainable_parameters"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    tensors = [v for v in cpu_state.values() if isinstance(v, torch.Tensor)]
    meta["tensors"] = len(tensors)
    meta["dtypes"] = sorted({str(t.dtype).removeprefix("torch.") for t in tensors})
    meta.setdefault("parameters", sum(t.numel() for t in tensors))
    # A fixed file name: torch.save names the archive after the file, and the bytes
    # (hence the digest) must depend on the weights only.
    with tempfile.TemporaryDirectory(prefix="mlops-model-") as tmp:
        target = Path(tmp) / "model.pt"
        torch.save(cpu_state, target)
        yield target, meta


RUN_URI_PREFIX = "runs:/"


def load_model(
    run_id: str,
    name: str = "model",
    model: Any = None,
    *,
    map_location: Any = "cpu",
    settings: Settings | None = None,
) -> Any:
    """Load a model logged with :func:`log_model` by run ``run_id`` (or a unique prefix),
    or a registered version: ``load_model("models:/churn@production")``,
    ``load_model("models:/churn/3", MyNet)`` (the second argument is then the model);
    or by the URI ``runs:/RUN_ID/NAME`` (what a pipeline's ``${steps.S.models.NAME}`` gives).

    ``model=None``: returns the state dict. A module: loads the weights into it and
    returns it. A class: builds ``model()`` (it must take no arguments), loads, returns
    it. Tensors are loaded with ``weights_only=True`` onto ``map_location``. The store is
    the one of ``settings`` (default: from the environment, as everywhere else).
    """
    from ..artifacts import open_artifact_store
    from ..registry.service import load_registered_model, load_weights
    from ..registry.uris import is_model_uri
    from ..store import RunStore

    if run_id.startswith(RUN_URI_PREFIX):
        if model is None and not isinstance(name, str):
            model = name  # load_model("runs:/ID/NAME", MyNet)
        run_id, _, name = run_id[len(RUN_URI_PREFIX) :].partition("/")
    settings = settings or Settings.from_env()
    if is_model_uri(run_id):
        if model is None and not isinstance(name, str):
            model = name
        return load_registered_model(run_id, model, map_location=map_location, settings=settings)
    store = RunStore.from_settings(settings)
    try:
        resolved = store.resolve_run_id(run_id)
        artifact = store.get_artifact(resolved, name)
    finally:
        store.close()
    if artifact is None:
        raise LookupError(f"run {resolved} has no artifact named {name!r}")
    with open_artifact_store(settings).open(artifact.sha256) as stream:
        return load_weights(stream, model, map_location=map_location)
