"""The model registry's store on SQLite and PostgreSQL: versions numbered per model,
aliases moved by compare-and-set (one winner under concurrency), the audit trail, and
``load_model("models:/...")`` returning exactly the registered bytes."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from jupyter_mlops.artifacts import artifact_row, open_artifact_store
from jupyter_mlops.config import Settings
from jupyter_mlops.registry.gate import finish_promotion
from jupyter_mlops.registry.requirements import RequirementError, evaluate, parse_requirement
from jupyter_mlops.registry.service import RegistryService, load_registered_model
from jupyter_mlops.registry.uris import parse_model_uri
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.registry import AliasMoved, ModelNotFound, RegistryConflict
from jupyter_mlops.store.types import utcnow
from jupyter_mlops.tracking.models import load_model, saved_model

from .conftest import make_run


@pytest.fixture
def registry_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", db_url=db_url)


@pytest.fixture
def rstore(registry_settings: Settings) -> Iterator[RunStore]:
    s = RunStore.from_settings(registry_settings)
    yield s
    s.close()


def logged_model_run(
    store: RunStore, settings: Settings, run_id: str, seed: int, metrics: dict[str, float]
) -> bytes:
    """A finished run that logged a small torch model as artifact ``model`` (the bytes
    returned) and ``metrics``."""
    store.create_run(make_run(run_id))
    torch.manual_seed(seed)
    net = torch.nn.Linear(4, 2)
    with saved_model(net) as (path, meta):
        data = path.read_bytes()
        sha, size = open_artifact_store(settings).put_file(path)
    store.add_artifact(artifact_row(run_id, "model", "model", sha, size, {**meta, "sha256": sha}))
    if metrics:
        store.log_metrics_batch(run_id, [(k, 0, v, utcnow()) for k, v in metrics.items()])
    store.transition(run_id, RunStatus.SUCCEEDED)
    return data


def test_versions_count_per_model_and_keep_lineage(
    rstore: RunStore, registry_settings: Settings
) -> None:
    first = logged_model_run(rstore, registry_settings, "a1", 1, {"loss": 0.5})
    logged_model_run(rstore, registry_settings, "b2", 2, {"loss": 0.4})
    service = RegistryService(registry_settings, rstore)
    v1 = service.register("a1", "model", "churn", actor="ana")
    v2 = service.register("b2", "model", "churn", actor="ben")
    other = service.register("a1", "model", "fraud", actor="ana")
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v1.sha256 == hashlib.sha256(first).hexdigest()
    assert v1.framework == "torch" and v1.class_name == "torch.nn.modules.linear.Linear"
    assert v1.parameter_count == 10
    assert [(m.model.name, m.versions, m.latest_version) for m in rstore.list_models()] == [
        ("churn", 2, 2),
        ("fraud", 1, 1),
    ]
    assert rstore.versions_of_run("a1") == [("churn", 1), ("fraud", 1)]
    assert [(e.action, e.version, e.actor) for e in rstore.model_history("churn")] == [
        ("register", 1, "ana"),
        ("register", 2, "ben"),
    ]
    with pytest.raises(LookupError, match="no artifact named 'weights'"):
        service.register("a1", "weights", "churn", actor="ana")
    with pytest.raises(ValueError, match="model name"):
        service.register("a1", "model", "bad name", actor="ana")
    assert rstore.model_versions("churn")[-1].version == 2  # nothing half-written


def test_version_numbers_are_unique_under_concurrent_registration(
    rstore: RunStore, registry_settings: Settings
) -> None:
    logged_model_run(rstore, registry_settings, "c3", 3, {})
    barrier = threading.Barrier(6)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def register() -> None:
        store = RunStore(rstore.url)
        try:
            barrier.wait()
            numbers.append(store.register_version("churn", "c3", "model", actor="t").version)
        except BaseException as err:
            errors.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=register) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_concurrent_alias_moves_leave_one_winner_and_a_consistent_history(
    rstore: RunStore, registry_settings: Settings
) -> None:
    for i, run_id in enumerate(["d1", "d2", "d3", "d4", "d5"]):
        logged_model_run(rstore, registry_settings, run_id, i, {})
        rstore.register_version("churn", run_id, "model", actor="t")
    rstore.move_alias("churn", "production", 1, expected=None, actor="t")
    barrier = threading.Barrier(4)
    won: list[int] = []
    lost: list[AliasMoved] = []

    def promote(version: int) -> None:
        store = RunStore(rstore.url)
        try:
            barrier.wait()
            store.move_alias("churn", "production", version, expected=1, actor=f"u{version}")
            won.append(version)
        except AliasMoved as err:
            lost.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=promote, args=(v,)) for v in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 3
    assert all("moved meanwhile" in str(e) and e.actual == won[0] for e in lost)
    assert rstore.alias_holder("churn", "production") == won[0]
    moves = [e for e in rstore.model_history("churn") if e.action == "alias_set"]
    assert [(e.version, e.previous_version) for e in moves] == [(1, None), (won[0], 1)]


def test_load_model_by_alias_and_number_returns_the_registered_bytes(
    rstore: RunStore, registry_settings: Settings
) -> None:
    data = logged_model_run(rstore, registry_settings, "e1", 5, {})
    logged_model_run(rstore, registry_settings, "e2", 6, {})
    rstore.register_version("churn", "e1", "model", actor="t")
    rstore.register_version("churn", "e2", "model", actor="t")
    rstore.move_alias("churn", "production", 1, expected=None, actor="t")
    expected = torch.load(__import__("io").BytesIO(data), weights_only=True)
    by_alias = load_model("models:/churn@production", settings=registry_settings)
    by_number = load_registered_model("models:/churn/1", settings=registry_settings)
    for state in (by_alias, by_number):
        assert state.keys() == expected.keys()
        assert all(torch.equal(state[k], expected[k]) for k in expected)
    into = load_model("models:/churn@production", torch.nn.Linear(4, 2), settings=registry_settings)
    assert torch.equal(into.weight, expected["weight"])
    version = rstore.version_by_alias("churn", "production")
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert torch.equal(load_model("e1", settings=registry_settings)["bias"], expected["bias"])
    with pytest.raises(ModelNotFound, match="no alias 'staging'"):
        load_model("models:/churn@staging", settings=registry_settings)
    with pytest.raises(ModelNotFound, match="no registered model named 'nope'"):
        load_model("models:/nope/1", settings=registry_settings)
    with pytest.raises(ModelNotFound, match="has no version 9"):
        load_model("models:/churn/9", settings=registry_settings)


def test_forced_move_delete_and_history(rstore: RunStore, registry_settings: Settings) -> None:
    logged_model_run(rstore, registry_settings, "f1", 1, {})
    logged_model_run(rstore, registry_settings, "f2", 2, {})
    service = RegistryService(registry_settings, rstore)
    service.register("f1", "model", "churn", actor="t")
    service.register("f2", "model", "churn", actor="t")
    with pytest.raises(ValueError, match="needs a reason"):
        service.force_alias("churn", "production", 2, actor="t", reason=" ")
    service.force_alias("churn", "production", 2, actor="ops", reason="hotfix")
    with pytest.raises(RegistryConflict, match="@production"):
        service.delete("churn", 2, actor="t", reason=None)
    service.delete("churn", 1, actor="t", reason="bad data")
    service.register("f1", "model", "churn", actor="t")
    assert [v.version for v in rstore.model_versions("churn")] == [2, 3]  # 1 is never reused
    service.delete("churn", None, actor="t", reason="retired")
    assert rstore.get_model("churn") is None
    events = [(e.action, e.version, e.reason) for e in rstore.model_history("churn")]
    assert events == [
        ("register", 1, None),
        ("register", 2, None),
        ("promotion_forced", 2, "hotfix"),
        ("delete", 1, "bad data"),
        ("register", 3, None),
        ("delete", None, "retired"),
    ]


def test_a_promotion_is_decided_once_against_the_holder_it_was_checked_against(
    rstore: RunStore, registry_settings: Settings
) -> None:
    """The finisher's half of the gate on stored validation runs: the holds-case moves the
    alias, a second finisher gets the same outcome, a stale holder is refused."""
    for run_id in ("g1", "g2", "g3"):
        logged_model_run(rstore, registry_settings, run_id, 1, {})
        rstore.register_version("churn", run_id, "model", actor="t")
    rstore.move_alias("churn", "production", 1, expected=None, actor="t")
    logged_model_run(rstore, registry_settings, "vcand", 1, {"eval/loss": 0.3})
    logged_model_run(rstore, registry_settings, "vbase", 1, {"eval/loss": 0.4})

    def started(version: int) -> Any:
        return rstore.record_registry_event(
            "churn",
            "promotion_started",
            actor="ana",
            version=version,
            alias="production",
            previous_version=1,
            details={
                "require": ["eval/loss <= baseline"],
                "candidate_run": "vcand",
                "baseline_run": "vbase",
            },
        )

    first, second = started(2), started(3)
    assert [e.id for e in rstore.pending_promotions()] == [first.id, second.id]
    outcome = finish_promotion(rstore, first)
    assert outcome is not None and outcome.action == "alias_set"
    assert outcome.details["verdicts"][0]["candidate"] == 0.3
    assert finish_promotion(rstore, first).id == outcome.id  # decided once
    refused = finish_promotion(rstore, second)
    assert refused.action == "promotion_refused" and "moved meanwhile" in refused.reason
    assert rstore.alias_holder("churn", "production") == 2
    assert rstore.pending_promotions() == []


@pytest.mark.parametrize(
    ("text", "candidate", "baseline", "holds"),
    [
        ("eval/loss <= baseline", 0.3, 0.4, True),
        ("eval/loss <= baseline", 0.5, 0.4, False),
        ("accuracy >= baseline - 0.01", 0.795, 0.8, True),
        ("latency_ms < 50", 63.0, None, False),
        ("latency_ms<50", 12.0, None, True),
        ("f1 == 1", 1.0, None, True),
        ("loss > baseline + 1e-3", 2.0, 1.0, True),
    ],
)
def test_requirements_parse_and_evaluate(
    text: str, candidate: float, baseline: float | None, holds: bool
) -> None:
    req = parse_requirement(text)
    metric = req.metric
    verdict = evaluate(req, {metric: candidate}, {metric: baseline} if baseline else {})
    assert verdict.holds is holds, verdict.message
    assert f"candidate {candidate:g}" in verdict.message


def test_requirement_messages() -> None:
    for bad in ["", "loss", "loss <== 3", "loss < baseline * 2", "loss < nan", "< 3"]:
        with pytest.raises(RequirementError, match=r"METRIC OP|empty|finite"):
            parse_requirement(bad)
    missing = evaluate(parse_requirement("loss < 1"), {}, None)
    assert not missing.holds and "logged no finite value of 'loss'" in missing.message
    first = evaluate(parse_requirement("loss <= baseline"), {"loss": 2.0}, None)
    assert first.holds and "no current holder" in first.message
    failed = evaluate(parse_requirement("loss <= baseline"), {"loss": 2.0}, {"loss": 1.5})
    assert failed.message == "loss <= baseline: failed (candidate 2, baseline 1.5)"


def test_model_uris() -> None:
    assert parse_model_uri("models:/churn/3").version == 3
    assert parse_model_uri("models:/churn@production").alias == "production"
    assert str(parse_model_uri("churn@prod", scheme_optional=True)) == "models:/churn@prod"
    for bad in ["models:/churn", "models:/churn/0", "models:/ch urn/1", "models:/churn@1x", "x"]:
        with pytest.raises(ValueError):
            parse_model_uri(bad)
