"""On-data and on-drift triggers with real files, a real training job, a registered model.

A data trigger fires once per new content hash (the run records both hashes); a drift
trigger fires only when the new data's columns drift beyond the thresholds from the data
the referenced model version was trained on (recorded by ``use_dataset`` in its run).
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.scheduling.trigger_service import TriggerError, TriggerService, TriggerSpec
from jupyter_mlops.store import RunStore

from .test_scheduler import Recorder
from .test_triggers import look_all, watcher


@pytest.fixture
def jobs(settings: Settings, store: RunStore) -> Iterator[JobService]:
    service = JobService(settings, store)
    yield service
    service.close()


def write_csv(path: Path, rows: list[tuple[float, str]]) -> str:
    """Write ``x,label`` rows, back-dated a second so the stat cache may keep the hash."""
    text = "x,label\n" + "".join(f"{x:.4f},{label}\n" for x, label in rows)
    path.write_text(text)
    stamp = time.time() - 1
    os.utime(path, (stamp, stamp))
    return hashlib.sha256(text.encode()).hexdigest()


def sample(n: int, mean: float, seed: int) -> list[tuple[float, str]]:
    rng = random.Random(seed)
    return [(rng.gauss(mean, 1.0), rng.choice("abc")) for _ in range(n)]


def sha256sum(path: Path) -> str:
    return subprocess.run(
        ["sha256sum", str(path)], check=True, capture_output=True, text=True
    ).stdout.split()[0]


def test_data_trigger_fires_once_per_new_version(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    data = project / "live.csv"
    first = write_csv(data, sample(200, 0.0, 1))
    service = TriggerService(jobs)
    trigger = service.create(
        TriggerSpec(notebook=str(project / "notebooks/trivial.ipynb"), on_data=str(data))
    )
    assert trigger.state["last_sha256"] == first == sha256sum(data)
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)
    assert look_all(w) == []
    stamp = time.time() - 1
    os.utime(data, (stamp + 0.5, stamp + 0.5))  # touched, same bytes: not a new version
    assert look_all(w) == []
    second = write_csv(data, sample(200, 0.0, 2))
    fired = look_all(w)
    assert len(fired) == 1 and look_all(w) == []
    (run,) = recorder.wait(store, timeout=180)
    assert run.status == "succeeded", run.status_reason
    (event,) = service.detail(trigger.id)["events"]
    assert event["details"] == {
        "uri": str(data),
        "old_sha256": first,
        "new_sha256": second,
    }
    assert second == sha256sum(data)
    (note,) = [e.message for e in store.events(run.id, kind="trigger")]
    assert first[:12] in note and second[:12] in note


def test_data_going_back_to_an_earlier_content_fires_again(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    """A, B, A, B: three changes, three events (keyed by the hash alone, the return to A
    and to B named events already claimed and fired nothing)."""
    data = project / "live.csv"
    a = write_csv(data, sample(50, 0.0, 1))
    service = TriggerService(jobs)
    trigger = service.create(
        TriggerSpec(notebook=str(project / "notebooks/trivial.ipynb"), on_data=str(data))
    )
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)
    b = write_csv(data, sample(50, 0.0, 2))
    assert len(look_all(w)) == 1
    assert write_csv(data, sample(50, 0.0, 1)) == a
    assert len(look_all(w)) == 1
    assert write_csv(data, sample(50, 0.0, 2)) == b
    assert len(look_all(w)) == 1 and look_all(w) == []
    runs = recorder.wait(store, timeout=300)
    assert [r.status for r in runs] == ["succeeded"] * 3
    events = service.detail(trigger.id)["events"]
    changes = sorted(
        (e["key"], e["details"]["old_sha256"], e["details"]["new_sha256"]) for e in events
    )
    assert changes == sorted(
        [(f"sha256:{b}#1", a, b), (f"sha256:{a}#2", b, a), (f"sha256:{b}#3", a, b)]
    )


def test_data_trigger_refuses_missing_data(jobs: JobService, project: Path) -> None:
    service = TriggerService(jobs)
    with pytest.raises(TriggerError, match="not found"):
        service.create(
            TriggerSpec(
                notebook=str(project / "notebooks/trivial.ipynb"),
                on_data=str(project / "nope.csv"),
            )
        )
    assert service.list() == []


def train_notebook(project: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('train_path = "train.csv"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import jupyter_mlops as mlops, torch\n"
            "path = mlops.use_dataset(train_path)\n"
            "net = torch.nn.Linear(1, 1)\n"
            'mlops.log_model(net, "model", register_as="churn")'
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = project / "notebooks" / "train_churn.ipynb"
    nbformat.write(nb, path)
    return path


def test_drift_trigger_fires_only_beyond_the_thresholds(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    pytest.importorskip("torch")
    train = project / "notebooks" / "train.csv"
    write_csv(train, sample(2000, 0.0, 1))
    notebook = train_notebook(project)
    submission = jobs.submit(RunSpec(notebook=str(notebook)))
    assert submission.handle is not None
    submission.handle.wait(timeout=300)
    trained = store.require_run(submission.run.id)
    assert trained.status == "succeeded", trained.status_reason
    store.move_alias("churn", "production", 1, expected=None, actor="test")

    live = project / "live.csv"
    write_csv(live, sample(2000, 0.0, 2))
    service = TriggerService(jobs)
    trigger = service.create(
        TriggerSpec(
            notebook=str(project / "notebooks/trivial.ipynb"),
            on_drift=str(live),
            reference="models:/churn@production",
        )
    )
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)

    write_csv(live, sample(2000, 0.05, 3))  # a new version, the same distribution
    assert look_all(w) == []
    (calm,) = service.detail(trigger.id)["events"]
    assert calm["state"] == "skipped" and "no column drifted" in calm["reason"]
    x = next(d for d in calm["details"]["drift"] if d["column"] == "x")
    assert x["flagged"] is False and x["psi"] < 0.2

    write_csv(live, sample(2000, 1.5, 4))  # shifted by 1.5 standard deviations
    fired = look_all(w)
    assert len(fired) == 1
    (run,) = recorder.wait(store, timeout=180)
    assert run.status == "succeeded", run.status_reason
    events = service.detail(trigger.id)["events"]
    shifted = next(e for e in events if e["state"] == "done")
    x = next(d for d in shifted["details"]["drift"] if d["column"] == "x")
    assert x["flagged"] is True and x["psi"] > 0.2 and x["ks"] > 0.1
    label = next(d for d in shifted["details"]["drift"] if d["column"] == "label")
    assert label["flagged"] is False  # the categories did not move

    with pytest.raises(TriggerError, match="reference"):
        service.create(
            TriggerSpec(
                notebook=str(project / "notebooks/trivial.ipynb"),
                on_drift=str(live),
                reference="models:/churn@staging",
            )
        )
