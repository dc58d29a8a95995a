"""A model card per version, generated from what the store knows, and ``export``: the
weights, the card and the run's package requirements in one directory, so a deployment
pipeline can pick a model up without the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .uris import ModelURI

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import RunStore
    from ..store.models_registry import ModelVersion

WEIGHTS_FILE = "model.pt"
CARD_FILE = "MODEL_CARD.md"
REQUIREMENTS_FILE = "requirements.txt"
METADATA_FILE = "model.json"
VALIDATION_ACTIONS = ("alias_set", "promotion_refused", "promotion_forced")


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]], empty: str) -> list[str]:
    if not rows:
        return [empty]
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]


def _datasets(store: RunStore, run_id: str) -> list[str]:
    """The run's recorded inputs (``RunStore.run_inputs``, where the datasets feature has
    landed); a marked line where this store does not record them."""
    run_inputs = getattr(store, "run_inputs", None)
    if run_inputs is None:
        # DATASETS: fill from RunStore.run_inputs once the datasets feature is merged.
        return ["_Datasets: not recorded by this store (no run inputs)._"]
    rows = [
        [i.name, i.kind, i.uri, (i.sha256 or "")[:16], i.size, i.source] for i in run_inputs(run_id)
    ]
    return _table(
        ["name", "kind", "uri", "sha256", "size", "source"], rows, "_No inputs recorded._"
    )


def _validation(store: RunStore, name: str, version: int) -> list[str]:
    out: list[str] = []
    for event in store.model_history(name):
        if event.version != version or event.action not in VALIDATION_ACTIONS:
            continue
        when = event.at.isoformat(timespec="seconds")
        target = f"@{event.alias}" if event.alias else ""
        out.append(f"- {when} **{event.action}** {target} by {event.actor}: {event.reason or ''}")
        for verdict in (event.details or {}).get("verdicts", []):
            mark = "holds" if verdict["holds"] else "FAILED"
            out.append(
                f"  - `{verdict['requirement']}`: {mark} (candidate {verdict['candidate']}, "
                f"baseline {verdict['baseline']})"
            )
    return out or ["_Not validated yet._"]


def _environment(env: dict[str, Any] | None) -> list[str]:
    if not env:
        return ["_No environment recorded._"]
    python = env.get("python") or {}
    torch = env.get("torch") or {}
    gpus = env.get("gpus") or {}
    platform = env.get("platform") or {}
    packages = env.get("packages") or {}
    lines = [
        f"- Python {python.get('version', '?')} ({python.get('implementation', '')})",
        f"- torch {torch.get('version', '?')}, CUDA {torch.get('cuda_version') or 'none'}",
        f"- platform {platform.get('platform', '?') if isinstance(platform, dict) else platform}",
        f"- GPUs: {len(gpus.get('devices', [])) if isinstance(gpus, dict) else 0}",
        f"- {len(packages) if isinstance(packages, dict) else 0} packages "
        f"(see `{REQUIREMENTS_FILE}` of an export)",
    ]
    return lines


def model_card(store: RunStore, name: str, version: ModelVersion) -> str:
    """The Markdown card of one version: what it is, lineage, training parameters and
    data, metrics, validation results, environment."""
    run = store.get_run(version.run_id)
    aliases = [a for a, v in store.model_aliases(name).items() if v == version.version]
    model = store.require_model(name)
    uri = ModelURI.of_version(name, version.version)
    out = [
        f"# {name} version {version.version}",
        "",
        f"`{uri}`" + "".join(f" · `models:/{name}@{a}`" for a in aliases),
        "",
        model.description or version.description or "",
        "## What it is",
        f"- class `{version.class_name or 'unknown'}`, {version.framework or '?'} "
        f"{version.framework_version}",
        f"- {version.parameter_count if version.parameter_count is not None else '?'} parameters",
        f"- weights sha256 `{version.sha256}`, {version.size} bytes "
        f"(artifact `{version.artifact_name}`)",
        f"- registered {version.created_at.isoformat(timespec='seconds')} by "
        f"{version.created_by or '?'}",
        f"- signature: {json.dumps(version.signature) if version.signature else 'not recorded'}",
        "## Lineage",
    ]
    if run is None:
        out.append(f"- run {version.run_id} (no longer in the store)")
    else:
        out += [
            f"- run `{run.id}` ({run.status}), notebook `{run.notebook_path}`, seed {run.seed}, "
            f"submitted by {run.submitted_by or '?'}",
            f"- commit `{run.commit_sha or '-'}` ({run.snapshot_ref or 'no snapshot'}), "
            f"branch {run.branch or '-'}",
        ]
    out += ["### Data", *_datasets(store, version.run_id), "## Training parameters"]
    params = [[p.name, json.loads(p.value_json)] for p in (run.params if run else [])]
    out += _table(["parameter", "value"], params, "_None._")
    out.append("## Metrics")
    metrics = sorted(store.latest_metrics(version.run_id).items())
    out += _table(["metric", "latest value"], [[k, v] for k, v in metrics], "_None logged._")
    out += ["## Validation", *_validation(store, name, version.version), "## Environment"]
    out += _environment(store.environment(version.run_id))
    spaced: list[str] = []
    for line in out:  # Markdown wants a blank line around headings
        if line.startswith("#") and spaced:
            spaced.append("")
        spaced.append(line)
        if line.startswith("#"):
            spaced.append("")
    return "\n".join(spaced) + "\n"


def requirements_text(env: dict[str, Any] | None) -> str:
    """``name==version`` lines of the run's recorded packages (empty when unknown)."""
    packages = (env or {}).get("packages") or {}
    if not isinstance(packages, dict):
        return ""
    return "".join(f"{name}=={version}\n" for name, version in sorted(packages.items()))


def export_version(
    settings: Settings, store: RunStore, name: str, version: ModelVersion, target: Path
) -> list[Path]:
    """Write the weights (digest checked), the card, the requirements and a small JSON of
    the version into ``target``; returns the files written."""
    from .service import read_weights

    data = read_weights(settings, version)
    target.mkdir(parents=True, exist_ok=True)
    env = store.environment(version.run_id)
    files = {
        WEIGHTS_FILE: data,
        CARD_FILE: model_card(store, name, version).encode(),
        REQUIREMENTS_FILE: requirements_text(env).encode(),
        METADATA_FILE: json.dumps(
            {
                "uri": str(ModelURI.of_version(name, version.version)),
                "name": name,
                "version": version.version,
                "sha256": version.sha256,
                "class_name": version.class_name,
                "framework": version.framework,
                "framework_version": version.framework_version,
                "parameter_count": version.parameter_count,
                "run_id": version.run_id,
                "weights": WEIGHTS_FILE,
            },
            indent=2,
        ).encode(),
    }
    written = []
    for file_name, content in files.items():
        path = target / file_name
        path.write_bytes(content)
        written.append(path)
    return written
