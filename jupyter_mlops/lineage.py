"""Lineage: which code and data produced a run's outputs, and which runs used them.

Built from what the store already holds: a run's commit, its recorded inputs (datasets by
content hash), its artifacts (models and files by content hash). Content links runs: a
run whose input hash equals another run's artifact hash read what that run produced. The
CLI (``jupyter mlops lineage``) and REST (``/runs/{id}/lineage``, ``/lineage/{sha256}``)
serve the same views, built as their response models.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .server import models

if TYPE_CHECKING:
    from .store import Artifact, RunStore
    from .store.models_inputs import RunInputRecord

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UnknownContent(LookupError):
    """No run produced or read content with this hash."""


def is_sha256(text: str) -> bool:
    return bool(SHA256.match(text))


def _producer(artifact: Artifact) -> dict[str, Any]:
    return {"run_id": artifact.run_id, "artifact": artifact.name, "kind": artifact.kind}


def _use(record: RunInputRecord) -> dict[str, Any]:
    return {"run_id": record.run_id, "name": record.name, "uri": record.uri}


def run_input(record: RunInputRecord) -> dict[str, Any]:
    """A recorded input as its REST shape (``show --json`` and the run detail)."""
    return models.RunInput.model_validate(record, from_attributes=True).to_json()


def run_lineage(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run, its commit, its inputs (with the runs that read the same content, the other
    versions of each dataset and the runs that produced it) and its outputs (with the runs
    that read them)."""
    run = store.require_run(run_id)
    inputs = store.run_inputs(run.id)
    artifacts = store.artifacts(run.id)
    uses = store.runs_using_any([i.sha256 for i in inputs] + [a.sha256 for a in artifacts])
    versions = {uri: store.dataset_versions(uri) for uri in {i.uri for i in inputs}}
    lineage = models.RunLineage(
        run={
            "id": run.id,
            "status": run.status,
            "notebook": run.notebook_path,
            "commit": run.commit_sha,
            "branch": run.branch,
            "base_commit": run.base_commit,
            "dirty": run.dirty,
            "reproduced_from": run.reproduced_from,
            "created_at": run.created_at,
        },
        inputs=[
            {
                **run_input(i),
                "used_by": sorted({u.run_id for u in uses[i.sha256] if u.run_id != run.id}),
                "versions": [v.to_dict() for v in versions[i.uri]],
                "produced_by": [
                    _producer(a)
                    for a in store.artifacts_with_sha256(i.sha256)
                    if a.run_id != run.id
                ],
            }
            for i in inputs
        ],
        outputs=[
            {
                "name": a.name,
                "kind": a.kind,
                "sha256": a.sha256,
                "size": a.size,
                "used_by": [_use(u) for u in uses[a.sha256] if u.run_id != run.id],
            }
            for a in artifacts
        ],
    )
    return lineage.to_json()


def content_lineage(store: RunStore, sha256: str) -> dict[str, Any]:
    """Who produced content with this hash (as an artifact) and who read it (as an input).
    ``ValueError`` for text that is not a sha256, :class:`UnknownContent` when no run
    knows it."""
    if not is_sha256(sha256):
        raise ValueError(f"{sha256!r} is not a sha256 (64 lowercase hexadecimal digits)")
    produced = store.artifacts_with_sha256(sha256)
    used = store.runs_using(sha256)
    if not produced and not used:
        raise UnknownContent(f"no run produced or read content with sha256 {sha256}")
    return models.ContentLineage(
        sha256=sha256,
        produced_by=[_producer(a) for a in produced],
        used_by=[_use(u) for u in used],
    ).to_json()


def known_datasets(store: RunStore) -> dict[str, Any]:
    """Every dataset any run read, with its versions and the runs of each."""
    return models.DatasetList(datasets=[d.to_dict() for d in store.known_datasets()]).to_json()
