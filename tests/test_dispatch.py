"""Queued runs of a process that stays up (server, ``run --wait``) have no runner process
until their slot is free: the process's dispatcher claims the slot, then starts it."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, Submission
from jupyter_mlops.store import Run, RunStore

from .test_queue import (  # noqa: F401
    Gates,
    kill_slot_holder,
    position,
    queue_settings,
    status,
    stays,
    wait_status,
    where_it_stands,
)
from .test_runs import wait_for


@pytest.fixture
def service_settings(queue_settings: Settings) -> Settings:  # noqa: F811
    return dataclasses.replace(queue_settings, max_concurrent_runs=1)


@pytest.fixture
def dispatching(service: JobService) -> Iterator[JobService]:
    service.dispatch_in_process()
    yield service
    service.hand_off_queued()


@pytest.fixture
def gates(dispatching: JobService, project: Path, tmp_path: Path) -> Gates:
    return Gates(dispatching, project, tmp_path)


@dataclasses.dataclass(frozen=True)
class Behind:
    """A gated run holding the only slot, and one queued behind it, each with its gate."""

    holder: Submission
    holder_gate: Path
    held: Run
    waiting: Submission
    gate: Path


@pytest.fixture
def behind(gates: Gates, store: RunStore) -> Behind:
    holder, holder_gate = gates.submit()
    held = wait_status(store, holder, "running")
    waiting, gate = gates.submit()
    return Behind(holder, holder_gate, held, waiting, gate)


def runner_processes(run_id: str) -> list[int]:
    """Processes running ``python -m jupyter_mlops.runner RUN_ID``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "jupyter_mlops.runner" in cmd and run_id in cmd:
            found.append(proc.pid)
    return found


def test_queued_runs_have_no_process_until_their_slot(
    behind: Behind, gates: Gates, store: RunStore, dispatching: JobService
) -> None:
    holder, gate_1, second, gate_2 = behind.holder, behind.holder_gate, behind.waiting, behind.gate
    third, gate_3 = gates.submit()
    for sub in (second, third):
        assert store.require_run(sub.run.id).runner_pid is None
    assert stays(
        lambda: (
            status(store, second) == status(store, third) == "queued"
            and runner_processes(second.run.id) == runner_processes(third.run.id) == []
            and not dispatching.reconcile()
        ),  # waiting without a runner is not lost
        2.0,
    )
    assert (position(store, second), position(store, third)) == (1, 2)
    gate_1.touch()
    assert wait_status(store, second, "running").runner_pid in runner_processes(second.run.id)
    assert status(store, third) == "queued" and runner_processes(third.run.id) == []
    gate_2.touch()
    gate_3.touch()
    runs = [wait_for(dispatching, s) for s in (holder, second, third)]
    assert [r.status for r in runs] == ["succeeded"] * 3
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at


def test_cancelling_a_run_that_never_started(behind: Behind, dispatching: JobService) -> None:
    waiting = behind.waiting
    assert dispatching.cancel(waiting.run.id).status == "cancelled"
    assert waiting.handle is not None and waiting.handle.wait(timeout=20) == 3
    assert not (dispatching.settings.runs_dir / waiting.run.id / "runner.log").exists()
    behind.holder_gate.touch()
    assert wait_for(dispatching, behind.holder).status == "succeeded"


def test_a_waiting_run_outlasts_lost_after(
    behind: Behind, store: RunStore, dispatching: JobService
) -> None:
    """The dispatcher beats for its waiting runs: past ``lost_after`` they are not lost."""
    lost_after = dispatching.settings.lost_after
    assert stays(
        lambda: status(store, behind.waiting) == "queued" and not dispatching.reconcile(),
        lost_after + 2,
    )
    behind.holder_gate.touch()
    behind.gate.touch()
    assert wait_for(dispatching, behind.waiting).status == "succeeded"


def test_a_killed_slot_holder_frees_the_slot_for_a_dispatched_run(
    behind: Behind, store: RunStore, dispatching: JobService
) -> None:
    kill_slot_holder(store, behind.held, behind.waiting)
    behind.gate.touch()
    assert wait_for(dispatching, behind.waiting).status == "succeeded"


def test_handing_off_gives_each_waiting_run_a_runner_of_its_own(
    behind: Behind, store: RunStore, dispatching: JobService
) -> None:
    waiting = behind.waiting
    assert dispatching.hand_off_queued() == [waiting.run.id]
    queued = store.require_run(waiting.run.id)
    found = runner_processes(waiting.run.id)
    assert queued.status == "queued" and queued.runner_pid in found, (
        f"runners found: {found}; {where_it_stands(store, waiting.run.id)}"
    )
    behind.holder_gate.touch()
    behind.gate.touch()
    assert wait_for(dispatching, waiting).status == "succeeded"
    assert wait_for(dispatching, behind.holder).status == "succeeded"
