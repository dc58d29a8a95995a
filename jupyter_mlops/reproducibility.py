"""The "Reproducibility" summary of a run: for each input a rebuild needs, whether the run
pinned it, and what was recorded.

Read from what is already stored (the run row, its environment record, its recorded
inputs), so it is computed when shown and holds for old runs too. It says only what the
record shows: "data read without use_dataset" is claimed only when the run recorded no
input at all (the notebook may read none; the record cannot tell).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SECRET_TYPE = "secret"
LOGGED_TYPE = "logged"


def _item(item: str, pinned: bool, detail: str) -> dict[str, Any]:
    return {"item": item, "pinned": pinned, "detail": detail}


def _torch_facts(environment: Mapping[str, Any]) -> tuple[bool, Mapping[str, Any]]:
    kernel = environment.get("kernel_cuda") or {}
    return bool(kernel.get("torch_imported")), kernel


def _device(environment: Mapping[str, Any], run: Any) -> dict[str, Any]:
    _, kernel = _torch_facts(environment)
    if kernel.get("device_name"):
        return _item("device", True, f"GPU {kernel['device_name']}")
    gpus = (environment.get("gpus") or {}).get("devices") or []
    if run.gpus and gpus:
        names = sorted({str(g.get("name")) for g in gpus})
        return _item("device", True, f"{run.gpus} GPU(s) of {', '.join(names)}")
    if run.gpus:
        return _item("device", False, f"{run.gpus} GPU(s) requested, none recorded")
    machine = (environment.get("platform") or {}).get("machine")
    return _item("device", True, f"CPU{f' ({machine})' if machine else ''}")


def _cuda(environment: Mapping[str, Any], run: Any) -> list[dict[str, Any]]:
    gpus = environment.get("gpus") or {}
    torch = environment.get("torch") or {}
    if not run.gpus:
        return [_item("driver, CUDA, cuDNN", True, "CPU run: no GPU stack involved")]
    driver = gpus.get("driver_version")
    cuda = torch.get("cuda") or gpus.get("cuda_driver_version")
    cudnn = torch.get("cudnn")
    missing = [n for n, v in (("driver", driver), ("CUDA", cuda), ("cuDNN", cudnn)) if not v]
    detail = f"driver {driver or '?'}, CUDA {cuda or '?'}, cuDNN {cudnn or '?'}"
    if missing:
        detail += f" ({', '.join(missing)} not recorded)"
    return [_item("driver, CUDA, cuDNN", not missing, detail)]


def reproducibility_summary(
    run: Any, environment: Mapping[str, Any] | None, inputs: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """``[{item, pinned, detail}]`` in the order a rebuild needs them."""
    env = environment or {}
    items = []
    if run.commit_sha:
        dirty = " (with uncommitted changes, snapshotted)" if run.dirty else ""
        items.append(_item("commit", True, f"snapshot {run.commit_sha[:12]}{dirty}"))
    else:
        items.append(_item("commit", False, "logged interactively: no snapshot"))
    job_params = [p for p in run.params if p.type_name != LOGGED_TYPE]
    secrets = [p.name for p in job_params if p.type_name == SECRET_TYPE]
    if secrets:
        items.append(
            _item("parameters", False, f"secret {', '.join(secrets)} not stored (give again)")
        )
    else:
        items.append(_item("parameters", True, f"{len(job_params)} recorded"))
    items.append(_item("seed", True, f"seed {run.seed} (also PYTHONHASHSEED)"))
    if inputs:
        items.append(_item("data", True, f"{len(inputs)} input(s) recorded by hash"))
    else:
        items.append(_item("data", False, "no inputs recorded: data read without use_dataset"))
    torch_imported, kernel = _torch_facts(env)
    torch_version = kernel.get("torch_version") or (env.get("torch") or {}).get("version")
    if torch_imported:
        items.append(_item("framework", True, f"torch {torch_version}"))
        flag = kernel.get("deterministic_algorithms")
        if flag is None:
            items.append(_item("deterministic algorithms", False, "flag not recorded"))
        else:
            state = "on" if flag else "off"
            items.append(
                _item(
                    "deterministic algorithms",
                    bool(flag),
                    f"torch.use_deterministic_algorithms {state}",
                )
            )
    packages = env.get("packages")
    count = len(packages) if isinstance(packages, dict) and "error" not in packages else 0
    locks = env.get("lock_files") or []
    if locks:
        items.append(
            _item("packages", True, f"{count} versions recorded; lock file {', '.join(locks)}")
        )
    else:
        items.append(
            _item("packages", False, f"packages not from a lock file ({count} versions recorded)")
        )
    python = (env.get("python") or {}).get("version")
    items.append(
        _item("runtime", bool(python), f"Python {python or '?'}, kernel {run.kernel_name}")
    )
    container = env.get("container")
    if isinstance(container, dict) and container.get("in_container"):
        image = container.get("image")
        detail = (
            f"image {image}"
            if image
            else f"in a container ({container.get('evidence')}), image not named"
        )
        items.append(_item("container", bool(image), detail))
    elif isinstance(container, dict):
        items.append(_item("container", False, "not in a container: the host's system libraries"))
    items += _cuda(env, run)
    items.append(_device(env, run))
    return items


def record_fields(store: Any, run: Any, environment: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``verification`` and ``reproducibility`` fields of a run's detail (REST and
    ``show``), read from the store."""
    from .verify.inputs import recorded_inputs

    return {
        "verification": store.verification(run.id),
        "reproducibility": reproducibility_summary(
            run, environment, recorded_inputs(store, run.id)
        ),
    }
