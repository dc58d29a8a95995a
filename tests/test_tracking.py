"""Tracking: the in-kernel API, the metric store, downsampling, models, GC and the CLI.

Jobs run for real (detached runners, kernels, papermill) against SQLite and a real
PostgreSQL server (``db_url`` is parametrized); the job's kernel gets the store URL
through ``Settings.runner_env``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import torch
from sqlalchemy import select
from torch import nn

from jupyter_mlops.artifact_gc import collect_garbage
from jupyter_mlops.artifacts import ArtifactStore
from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.store import Run, RunStore
from jupyter_mlops.store.artifacts import LOGGED_PARAM_TYPE
from jupyter_mlops.store.models import MetricRollup
from jupyter_mlops.store.rollups import rollup_rows
from jupyter_mlops.tracking import Tracker, load_model

from .conftest import git
from .conftest import make_run as placeholder_run
from .test_migrations import insert_first_revision_run
from .test_runs import wait_for as wait_for_run

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "train_torch.ipynb"


# -- fixtures and helpers -----------------------------------------------------------------


SYSTEM = "system/"  # the runner's own samples (CPU, memory), logged for every run


def notebook_keys(store: RunStore, run_id: str) -> list[str]:
    """The metric keys the notebook logged itself."""
    return [k for k in store.metric_keys(run_id) if not k.startswith(SYSTEM)]


@pytest.fixture
def job_settings(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on the parametrized store; runners (and so kernels) get its URL."""
    monkeypatch.setenv("JUPYTER_MLOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JUPYTER_MLOPS_DB_URL", db_url)
    monkeypatch.delenv("JUPYTER_MLOPS_RUN_ID", raising=False)
    return Settings(
        data_dir=data_dir,
        db_url=db_url,
        heartbeat_interval=0.5,
        lost_after=5.0,
        # tracking.ipynb names its metric `key`, which the default `*key*` would mask
        secret_parameter_patterns=("*secret*", "*token*", "*password*"),
    )


@pytest.fixture
def service_settings(job_settings: Settings) -> Settings:
    """The ``store`` and ``service`` fixtures (conftest.py) use the parametrized store."""
    return job_settings


def wait_for(service: JobService, submission: Submission, timeout: float = 180) -> Run:
    """:func:`tests.test_runs.wait_for` with more time: these runs train models."""
    return wait_for_run(service, submission, timeout=timeout)


def make_run(store: RunStore, run_id: str, **params: tuple[object, str]) -> str:
    """A stored run (no snapshot: it is written to directly) with these params."""
    store.create_run(placeholder_run(run_id, commit_sha=""), params=params)
    return run_id


def params_of(run: Run) -> dict[str, tuple[object, str]]:
    return {p.name: (json.loads(p.value_json), p.type_name) for p in run.params}


def weights_digest(state: dict) -> str:
    """The notebook's own digest (examples/train_torch.ipynb), recomputed here."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class MLP(nn.Module):
    """The example notebook's architecture, to load its weights into."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)


def subprocess_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env.update(settings.runner_env())
    env.update(extra)
    return env


def interactive_script(script: str, settings: Settings, cwd: Path) -> str:
    """Run ``script`` in a plain Python process, outside any job (an interactive session
    on ``settings``' store); its stdout, once it exited 0."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


# -- the example notebook as jobs -------------------------------------------------------


def test_train_torch_example_as_jobs(
    service: JobService, store: RunStore, job_settings: Settings, project: Path
) -> None:
    """Two runs with the same seed: loss series stored, identical weights stored once,
    load_model gives back exactly what the notebook trained; GC keeps shared blobs."""
    shutil.copy(EXAMPLE, project / "notebooks" / "train_torch.ipynb")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "example")
    spec = RunSpec(
        notebook=str(project / "notebooks" / "train_torch.ipynb"),
        raw_parameters={"epochs": "4"},
        seed=1234,
    )
    subs = [service.submit(spec), service.submit(spec)]
    runs = [wait_for(service, s) for s in subs]
    for run in runs:
        assert run.status == "succeeded", run.status_reason
    a, b = (r.id for r in runs)

    steps_per_epoch = math.ceil(int(0.8 * 2000) / 64)
    for run in runs:
        assert set(notebook_keys(store, run.id)) == {
            "train/loss",
            "train/epoch_loss",
            "val/loss",
            "val/accuracy",
            "final/val_loss",
            "final/val_accuracy",
        }
        series = store.metric_series(run.id, "train/loss", max_points=None)
        assert series["total_points"] == 4 * steps_per_epoch
        assert [s for s, _ in series["points"]] == list(range(4 * steps_per_epoch))
        assert store.metric_series(run.id, "val/accuracy")["total_points"] == 4
        latest = store.latest_metrics(run.id)
        assert latest["final/val_accuracy"] == latest["val/accuracy"] > 0.8
        params = params_of(run)
        assert params["seed"] == (1234, "int")  # the job parameter, untouched
        assert params["epochs"] == (4, "int")
        assert params["steps_per_epoch"] == (steps_per_epoch, LOGGED_PARAM_TYPE)
        assert {t.tag for t in run.tags} == {"task=two-moons", "device=cpu"}

    # load_model returns exactly the weights the notebook trained (its own digest)
    states = [load_model(r.id, "model", settings=job_settings) for r in runs]
    for run, state in zip(runs, states, strict=True):
        assert weights_digest(state) == params_of(run)["weights_sha256"][0]
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    model = load_model(a[:8], "model", MLP, settings=job_settings)  # a class: built, loaded
    assert isinstance(model, MLP)
    assert all(torch.equal(model.state_dict()[k], states[0][k]) for k in states[0])

    # stored once, described by its meta
    models = [store.get_artifact(r.id, "model") for r in runs]
    assert models[0] is not None and models[1] is not None
    assert models[0].sha256 == models[1].sha256
    assert store.artifact_refcount(models[0].sha256) == 2
    meta = models[0].meta
    assert meta["architecture"] == "__main__.MLP" and meta["parameters"] == 4417
    assert meta["sha256"] == models[0].sha256
    blobs = ArtifactStore(job_settings.resolved_artifact_root)
    with blobs.open(models[0].sha256) as f:
        assert hashlib.sha256(f.read()).hexdigest() == models[0].sha256

    # GC after delete: the shared model survives the first delete, not the second
    digests_a = {x.sha256 for x in store.artifacts(a)}
    notebook_a = store.get_artifact(a, "output.ipynb")
    assert notebook_a is not None
    service.delete(a)
    collect_garbage(store, blobs, digests_a)
    assert blobs.exists(models[0].sha256)
    assert not blobs.exists(notebook_a.sha256)
    digests_b = {x.sha256 for x in store.artifacts(b)}
    service.delete(b)
    collect_garbage(store, blobs, digests_b)
    assert not blobs.exists(models[0].sha256)
    assert store.metric_keys(a) == [] and store.metric_series(b, "train/loss")["total_points"] == 0


# -- fixture notebooks as jobs ----------------------------------------------------------------


def test_no_point_is_lost_when_a_cell_raises(
    service: JobService, store: RunStore, project: Path
) -> None:
    sub = service.submit(RunSpec(notebook=str(project / "notebooks/tracking_raises.ipynb")))
    run = wait_for(service, sub)
    assert run.status == "failed"
    assert run.error_ename == "RuntimeError" and "on purpose" in (run.error_evalue or "")
    series = store.metric_series(run.id, "loss", max_points=None)
    assert series["total_points"] == 10_000
    assert [s for s, _ in series["points"]] == list(range(10_000))
    latest = store.latest_metrics(run.id)
    assert {k: v for k, v in latest.items() if not k.startswith(SYSTEM)} == {"loss": 1.0 / 10_000}


def test_two_concurrent_runs_log_20000_points_each(
    service: JobService, store: RunStore, job_settings: Settings, project: Path
) -> None:
    notebook = str(project / "notebooks/tracking.ipynb")
    subs = [
        service.submit(RunSpec(notebook=notebook, raw_parameters={"n": "20000", "key": key}))
        for key in ("first", "second")
    ]
    runs = [wait_for(service, s) for s in subs]
    blobs = ArtifactStore(job_settings.resolved_artifact_root)
    for run, key in zip(runs, ("first", "second"), strict=True):
        assert run.status == "succeeded", run.status_reason
        assert notebook_keys(store, run.id) == sorted([key, "a", "b"])
        series = store.metric_series(run.id, key, max_points=None)
        assert series["total_points"] == 20_000
        assert series["points"][-1] == (19_999, 19_999 * 0.5)
        latest = store.latest_metrics(run.id)
        assert latest[key] == 19_999 * 0.5 and latest["a"] == 1.0
        assert latest["b"] is None  # NaN is stored as NULL ...
        nan = store.metric_series(run.id, "b")["points"]
        assert len(nan) == 1 and math.isnan(nan[0][1])  # ... and read back as NaN
        params = params_of(run)
        assert params["n"] == (20_000, "int")  # equal logged value: the job parameter stays
        assert params["key"] == (key, "str")  # different logged value: stored beside it
        assert params["logged.key"] == ("logged-value", LOGGED_PARAM_TYPE)
        assert params["extra"] == ({"k": [1, 2]}, LOGGED_PARAM_TYPE)
        assert "stage=test" in {t.tag for t in run.tags}
        note = store.get_artifact(run.id, "note.txt")
        assert note is not None and note.kind == "file"
        with blobs.open(note.sha256) as f:
            assert f.read() == b"hello from the kernel\n"


# -- the store: batches, latest values, rollups, downsampling ----------------------------------


def _points(values: list[tuple[int, float]], start: datetime | None = None):
    at = start or datetime.now(timezone.utc)
    return [
        ("m", step, value, at + timedelta(microseconds=i)) for i, (step, value) in enumerate(values)
    ]


def test_latest_metric_keeps_highest_step_ties_go_to_the_latest(store: RunStore) -> None:
    run = make_run(store, "latest1")
    store.log_metrics_batch(run, _points([(5, 1.0), (3, 2.0), (5, 3.0)]))
    assert store.latest_metrics(run) == {"m": 3.0}  # step 5 twice in one batch: the later
    store.log_metrics_batch(run, _points([(4, 9.0)]))
    assert store.latest_metrics(run) == {"m": 3.0}  # a lower step never wins
    store.log_metrics_batch(run, _points([(5, 4.0)]))
    assert store.latest_metrics(run) == {"m": 4.0}  # same step, later batch: wins
    store.log_metrics_batch(run, _points([(6, float("nan"))]))
    assert store.latest_metrics(run) == {"m": None}
    assert store.metric_series(run, "m")["total_points"] == 6  # duplicates are all kept


def test_rollups_merged_across_batches_equal_one_pass(store: RunStore) -> None:
    """Batches in any order and size give the same rollups as all points at once
    (the SQL upsert merge equals the Python aggregation), on both dialects."""
    run = make_run(store, "rollup1")
    rng = random.Random(7)
    values = [(step, rng.choice([rng.random(), 1.0, float("nan")])) for step in range(-300, 6000)]
    values += [(rng.randrange(-300, 6000), rng.random()) for _ in range(500)]  # repeated steps
    values += [(10**12 + 5, -1.0), (10**12 + 9, float("inf"))]  # far steps
    shuffled = values[:]
    rng.shuffle(shuffled)
    i = 0
    while i < len(shuffled):
        size = rng.randrange(1, 2000)
        store.log_metrics_batch(run, _points(shuffled[i : i + size]))
        i += size
    expected = rollup_rows(
        run, "m", [(s, None if v != v else v) for s, v in sorted(values, key=lambda p: p[0])]
    )
    with store.reading() as session:
        rows = session.execute(select(MetricRollup).where(MetricRollup.run_id == run)).scalars()
        got = {
            (r.level, r.bucket): (
                r.count,
                r.first_step,
                r.last_step,
                r.min_step,
                r.min_value,
                r.max_step,
                r.max_value,
            )
            for r in rows
        }
    want = {
        (r["level"], r["bucket"]): (
            r["count"],
            r["first_step"],
            r["last_step"],
            r["min_step"],
            r["min_value"],
            r["max_step"],
            r["max_value"],
        )
        for r in expected
    }
    assert got == want


def test_downsampling_keeps_spikes_and_returns_at_most_max_points(store: RunStore) -> None:
    run = make_run(store, "down1")
    n = 200_000
    rng = random.Random(3)
    values = [math.sin(i / 500) + rng.random() * 0.01 for i in range(n)]
    spikes = {rng.randrange(n): 100.0 + k for k in range(5)}
    dips = {rng.randrange(n): -100.0 - k for k in range(5)}
    for step, value in {**spikes, **dips}.items():
        values[step] = value
    for start in range(0, n, 50_000):
        store.log_metrics_batch(
            run, _points([(i, values[i]) for i in range(start, start + 50_000)])
        )
    for max_points in (1000, 333, 10, 2):
        series = store.metric_series(run, "m", max_points=max_points)
        assert series["downsampled"] and series["total_points"] == n
        points = series["points"]
        assert 0 < len(points) <= max_points
        assert points == sorted(points)
        assert all(values[s] == v for s, v in points)  # real points, not averages
        got = dict(points)
        if max_points >= 20:
            assert all(got.get(s) == v for s, v in {**spikes, **dips}.items())
        assert max(v for _, v in points) == max(values)
        assert min(v for _, v in points) == min(values)
    full = store.metric_series(run, "m", max_points=None)
    assert len(full["points"]) == n and not full["downsampled"]


def test_downsampling_a_short_series_buckets_the_raw_points_exactly(store: RunStore) -> None:
    run = make_run(store, "down2")
    rng = random.Random(5)
    values = [(step, rng.random()) for step in range(100, 3100)]
    store.log_metrics_batch(run, _points(values))
    series = store.metric_series(run, "m", max_points=1000)
    width = math.ceil(3000 / 500)
    groups: dict[int, list[tuple[int, float]]] = {}
    for step, value in values:
        groups.setdefault((step - 100) // width, []).append((step, value))
    expected = set()
    for pts in groups.values():
        expected.add(min(pts, key=lambda p: (p[1], p[0])))
        expected.add(max(pts, key=lambda p: (p[1], -p[0])))
    assert series["downsampled"]
    assert set(series["points"]) == expected and len(series["points"]) <= 1000
    small = store.metric_series(run, "m", max_points=5000)
    assert small["points"] == values and not small["downsampled"]
    assert store.metric_series(run, "missing") == {
        "key": "missing",
        "total_points": 0,
        "points": [],
        "downsampled": False,
    }


def test_log_params_never_clobbers_job_parameters_and_tags_replace(store: RunStore) -> None:
    run = make_run(store, "params1", lr=(0.1, "float"), epochs=(3, "int"))
    assert store.log_params(run, {"lr": 0.1, "batch": 32}) == {"batch": "batch"}
    assert store.log_params(run, {"lr": 0.2, "batch": 64}) == {
        "lr": "logged.lr",
        "batch": "batch",
    }
    params = params_of(store.require_run(run))
    assert params == {
        "lr": (0.1, "float"),
        "epochs": (3, "int"),
        "logged.lr": (0.2, LOGGED_PARAM_TYPE),
        "batch": (64, LOGGED_PARAM_TYPE),
    }
    store.set_tags(run, {"team": "a", "stage": "dev"})
    store.set_tags(run, {"team": "b"})
    assert {t.tag for t in store.require_run(run).tags} == {"team=b", "stage=dev"}


# -- the tracker in this process ---------------------------------------------------------


def test_tracker_steps_buffering_and_retry_after_a_store_failure(
    store: RunStore, job_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(store, "tracker1")
    tracker = Tracker(run, settings=job_settings, store=store, flush_interval=3600)
    try:
        for v in (1.0, 2.0, 3.0):
            tracker.log_metric("x", v)  # steps 0, 1, 2
        tracker.log_metric("x", 10.0, step=10)
        tracker.log_metric("x", 11.0)  # after an explicit step: the next one
        tracker.log_metrics({"x": 12.0, "y": torch.tensor(0.5)})
        tracker.log_metrics({"y": 1.5}, step=7)
        with pytest.raises(TypeError):
            tracker.log_metric("x", object())
        with pytest.raises(TypeError):
            tracker.log_metric("", 1.0)
        calls = {"n": 0}
        real = store.log_metrics_batch

        def failing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("store briefly down")
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "log_metrics_batch", failing_once)
        with pytest.raises(RuntimeError):
            tracker.flush()
        assert tracker.pending == 8  # kept, in order
        assert tracker.flush() == 8
        monkeypatch.setattr(store, "log_metrics_batch", real)
    finally:
        tracker.close()
    x = store.metric_series(run, "x", max_points=None)["points"]
    assert x == [(0, 1.0), (1, 2.0), (2, 3.0), (10, 10.0), (11, 11.0), (12, 12.0)]
    assert store.metric_series(run, "y")["points"] == [(0, 0.5), (7, 1.5)]


def test_content_addressed_models_and_gc_of_a_replaced_version(
    store: RunStore, job_settings: Settings, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model = MLP(8)
    a, b = make_run(store, "model_a"), make_run(store, "model_b")
    trackers = [Tracker(r, settings=job_settings, store=store) for r in (a, b)]
    try:
        infos = [t.log_model(model, "net") for t in trackers]
        assert infos[0]["sha256"] == infos[1]["sha256"]
        assert infos[0]["meta"]["architecture"] == f"{MLP.__module__}.MLP"
        assert infos[0]["meta"]["parameters"] == sum(p.numel() for p in model.parameters())
        blobs = ArtifactStore(job_settings.resolved_artifact_root)
        assert [
            p.name for p in blobs.root.rglob("*") if p.is_file() and p.parent != blobs.root
        ] == [infos[0]["sha256"][2:]]
        loaded = load_model(a, "net", MLP(8), settings=job_settings)
        assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())

        (tmp_path / "d" / "sub").mkdir(parents=True)
        (tmp_path / "d" / "one.txt").write_text("1")
        (tmp_path / "d" / "sub" / "two.txt").write_text("2")
        assert trackers[0].log_artifact(tmp_path / "d") == ["d/one.txt", "d/sub/two.txt"]
        with pytest.raises(FileNotFoundError):
            trackers[0].log_artifact(tmp_path / "missing")

        # run b logs a new version under the same name: the old blob is still a's
        with torch.no_grad():
            model.layers[0].weight.add_(1.0)
        new = trackers[1].log_model(model, "net")
        assert new["sha256"] != infos[0]["sha256"]
        assert blobs.exists(infos[0]["sha256"])
        # a replaces its version too: now nobody refers to the first one
        trackers[0].log_model(model, "net")
        assert not blobs.exists(infos[0]["sha256"])
        assert blobs.exists(new["sha256"])
        digests = {x.sha256 for x in store.artifacts(a)}
        store.delete_run(a)
        collect_garbage(store, blobs, digests)
        assert blobs.exists(new["sha256"])  # b still has it
        assert not any(blobs.exists(d) for d in digests - {new["sha256"]})
    finally:
        for t in trackers:
            t.close()


# -- other processes: interactive runs, seeds, import cost, CLI ----------------------------


def test_interactive_logging_from_a_plain_python_process(
    store: RunStore, job_settings: Settings, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import jupyter_mlops as mlops
        mlops.seed_everything(7)
        for i in range(2500):
            mlops.log_metric("loss", 1 / (i + 1))
        mlops.log_params({"lr": 0.5})
        mlops.set_tags({"mode": "interactive"})
        print(mlops.current_run_id())
        """
    )
    run_id = interactive_script(script, job_settings, tmp_path).strip()
    run = store.require_run(run_id)
    assert run.source == "interactive" and run.status == "succeeded"
    assert run.seed == 7 and run.started_at is not None and run.finished_at is not None
    assert [e.status for e in store.events(run_id, kind="status")] == [
        "queued",
        "running",
        "succeeded",
    ]
    assert store.metric_series(run_id, "loss")["total_points"] == 2500
    assert params_of(run) == {"lr": (0.5, LOGGED_PARAM_TYPE)}
    assert [t.tag for t in run.tags] == ["mode=interactive"]
    env = store.environment(run_id)
    assert env is not None and env["interactive"]["pid"] > 0


def test_seed_everything_seeds_random_numpy_and_torch(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, os, random, sys
        import jupyter_mlops as mlops

        def draws(seed, deterministic=False):
            used = mlops.seed_everything(seed, deterministic=deterministic)
            import numpy, torch
            return {
                "seed": used, "random": random.random(), "numpy": float(numpy.random.rand()),
                "torch": torch.rand(1).item(), "hashseed": os.environ["PYTHONHASHSEED"],
                "deterministic": torch.are_deterministic_algorithms_enabled(),
                "cublas": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
            }

        if sys.argv[1] == "explicit":
            print(json.dumps([draws(123), draws(124), draws(123)]))
        else:  # the job's seed, from the environment
            print(json.dumps([draws(None, deterministic=True)]))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["JUPYTER_MLOPS_DATA_DIR"] = str(tmp_path)

    def run(mode: str, **extra: str) -> list[dict]:
        out = subprocess.run(
            [sys.executable, "-c", script, mode],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first, other, again = run("explicit")
    assert first == again and first["seed"] == 123 and first["hashseed"] == "123"
    assert not first["deterministic"]
    assert all(other[k] != first[k] for k in ("random", "numpy", "torch"))
    (from_env,) = run("env", JUPYTER_MLOPS_SEED="123")
    assert from_env["seed"] == 123
    assert all(from_env[k] == first[k] for k in ("random", "numpy", "torch"))
    assert from_env["deterministic"] and from_env["cublas"] == ":4096:8"
    assert not (tmp_path / "mlops.db").exists()  # seeding alone records nothing


def test_importing_the_package_stays_cheap() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, jupyter_mlops; jupyter_mlops.log_metric; jupyter_mlops.log_model; "
            "print([m for m in ('sqlalchemy', 'torch', 'numpy', 'papermill') if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def mlops_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["jupyter", "mlops", *args], capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_metrics_and_artifacts_get(
    store: RunStore, job_settings: Settings, tmp_path: Path
) -> None:
    run = make_run(store, "cli0001")
    tracker = Tracker(run, settings=job_settings, store=store)
    try:
        for i in range(3000):
            tracker.log_metric("loss", 1 / (i + 1))
        tracker.log_metrics({"acc": 0.5, "odd": float("nan")})
        blob = tmp_path / "weights.bin"
        blob.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
        tracker.log_artifact(blob)
    finally:
        tracker.close()
    env = subprocess_env(job_settings)

    csv_all = mlops_cli("metrics", "cli0", env=env)
    assert csv_all.returncode == 0, csv_all.stderr
    lines = csv_all.stdout.decode().splitlines()
    assert lines[0] == "key,step,value" and len(lines) == 1 + 3000 + 2
    assert (
        "acc,0,0.5" in lines and "odd,0,nan" in lines and "loss,2999,0.0003333333333333333" in lines
    )

    js = mlops_cli("metrics", run, "loss", "--format", "json", "--max-points", "100", env=env)
    assert js.returncode == 0, js.stderr
    payload = json.loads(js.stdout)
    (series,) = payload["metrics"]
    assert series["key"] == "loss" and series["total_points"] == 3000 and series["downsampled"]
    assert 0 < len(series["points"]) <= 100 and series["points"][0] == [0, 1.0]
    nan = json.loads(mlops_cli("metrics", run, "odd", "--json", env=env).stdout)
    assert nan["metrics"][0]["points"] == [[0, None]]
    exported = tmp_path / "acc.csv"
    assert mlops_cli("metrics", run, "acc", "-o", str(exported), env=env).returncode == 0
    assert exported.read_text() == "key,step,value\nacc,0,0.5\n"
    missing = mlops_cli("metrics", run, "nope", env=env)
    assert missing.returncode == 2 and b"nope" in missing.stderr and b"loss" in missing.stderr

    target = tmp_path / "copy.bin"
    got = mlops_cli("artifacts", "get", run, "weights.bin", "-o", str(target), env=env)
    assert got.returncode == 0, got.stderr
    assert target.read_bytes() == blob.read_bytes()
    to_stdout = mlops_cli("artifacts", "get", run, "weights.bin", env=env)
    assert to_stdout.returncode == 0 and to_stdout.stdout == blob.read_bytes()
    unknown = mlops_cli("artifacts", "get", run, "nothing", "-o", str(target), env=env)
    assert unknown.returncode == 2 and b"weights.bin" in unknown.stderr

    show = mlops_cli("show", run, env=env)
    assert show.returncode == 0, show.stderr
    assert b"loss = 0.0003333" in show.stdout and b"weights.bin" in show.stdout


def test_migration_0002_backfills_rollups_of_existing_points(db_url: str) -> None:
    from sqlalchemy import text

    from jupyter_mlops.store.engine import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        insert_first_revision_run(conn, "old", datetime.now(timezone.utc))
        conn.execute(
            text(
                "INSERT INTO metrics (run_id, key, step, value, at) "
                "VALUES ('old', 'm', :s, :v, :at)"
            ),
            [{"s": s, "v": float(s % 97), "at": datetime.now(timezone.utc)} for s in range(5000)],
        )
    upgrade(engine, "0002")
    engine.dispose()
    store = RunStore(db_url, migrate=False)  # this revision only (queries need no more)
    try:
        series = store.metric_series("old", "m", max_points=100)
        assert series["total_points"] == 5000 and series["downsampled"]
        assert max(v for _, v in series["points"]) == 96.0
        assert min(v for _, v in series["points"]) == 0.0
    finally:
        store.close()
