"""Warm kernels (``c.MLOps.warm_kernels``): a run that adopts a kernel its runner host
started before the run existed sees and records exactly what a run with a kernel started
for it does; it can be cancelled like any run; killing the host loses nothing, and the
warm kernels it kept go with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.processes import RUNNER_LOG
from jupyter_mlops.run_cgroup import cgroup2_mount, own_cgroup
from jupyter_mlops.runner_host import offer_seed, warm_runners
from jupyter_mlops.warm_kernel import MARKER_PLACEHOLDER
from jupyter_mlops.warm_runner import WARM_RUNNER_ARG

from .conftest import git
from .test_runner_host import differences, running_host, stable
from .test_runs import executed_notebook, wait_for, wait_until

PROBE = r"""
import json, os, sys
def _facts():
    shell = get_ipython()
    with open("/proc/self/environ", "rb") as f:
        initial = dict(e.split("=", 1) for e in f.read().decode().split("\0") if "=" in e)
    with open("/proc/self/cgroup") as f:
        cgroup = f.read().strip().rsplit("/", 1)[-1]
    return {
        "cwd": os.getcwd(),
        "sys_path": sys.path,
        "dh": shell.user_ns.get("_dh"),
        "starting_dir": getattr(shell, "starting_dir", None),
        "hash": hash("jupyter-mlops"),
        "environ": dict(os.environ),
        "marker_in_proc": initial.get("JUPYTER_MLOPS_RUN_ID"),
        "ppid": os.getppid(),
        "cgroup": cgroup,
        "user_names": sorted(k for k in shell.user_ns if not k.startswith("_")),
        "ctypes_loaded": "ctypes" in sys.modules,
        "history": len(shell.user_ns["In"]),
        "execution_count": shell.execution_count,
    }
print(json.dumps(_facts(), default=str))
"""


@pytest.fixture
def probe_project(project: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(PROBE),
    ]
    nbformat.write(nb, project / "notebooks/probe.ipynb")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "probe")
    return project


@pytest.fixture
def host(settings: Settings, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    yield from running_host(settings, {**env, "JUPYTER_MLOPS_WARM_KERNELS": "1"})
    wait_until(lambda: not warm_processes(), 60)  # its warm runners follow it


def warm_processes() -> list[psutil.Process]:
    """Warm runners and warm kernels (not yet a run's) on this machine."""
    found = []
    for proc in psutil.process_iter():
        try:
            if WARM_RUNNER_ARG in proc.cmdline() or (
                proc.environ().get("JUPYTER_MLOPS_RUN_ID") == MARKER_PLACEHOLDER
            ):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_for_warm(settings: Settings, **wanted: Any) -> dict[str, Any]:
    """The host's free warm runner with the ``wanted`` fields, once there is one."""
    found: list[dict[str, Any]] = []

    def present() -> bool:
        found[:] = [
            w
            for w in warm_runners(settings.data_dir) or []
            if not w["reserved"] and all(w[k] == v for k, v in wanted.items())
        ]
        return bool(found)

    wait_until(present, 120)
    return found[0]


def runner_log(settings: Settings, run_id: str) -> str:
    return (settings.runs_dir / run_id / RUNNER_LOG).read_text()


def adopted(settings: Settings, run_id: str) -> bool:
    return "warm kernel" in runner_log(settings, run_id) and " adopted " in runner_log(
        settings, run_id
    )


def probe_facts(service: JobService, run: Any) -> dict[str, Any]:
    """What the probe cell printed, with what differs between any two runs (the run's id,
    its runner's pid) checked and replaced."""
    nb = executed_notebook(service, run.id)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    facts = json.loads(text)
    assert facts["marker_in_proc"] == facts["environ"]["JUPYTER_MLOPS_RUN_ID"] == run.id
    assert facts.pop("ppid") == run.runner_pid  # the kernel is its runner's child
    assert facts["environ"].pop("JPY_PARENT_PID") == str(run.runner_pid)
    facts["execution_counts"] = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    return json.loads(json.dumps(facts).replace(run.id, "RUN"))


def probe_run(service: JobService, project: Path, seed: int | None) -> Any:
    spec = RunSpec(notebook=str(project / "notebooks/probe.ipynb"), seed=seed)
    run = wait_for(service, service.submit(spec))
    assert run.status == "succeeded", run.status_reason
    return run


def test_a_run_on_a_warm_kernel_is_the_same_as_one_on_a_cold_kernel(
    service: JobService, probe_project: Path, settings: Settings, host: Any
) -> None:
    probe_run(service, probe_project, seed=4)  # fills the environment caches (torch's)
    cold = probe_run(service, probe_project, seed=5)  # none with its seed yet: cold
    assert not adopted(settings, cold.id)
    wait_for_warm(settings, seed=5, drawn=False)
    warm = probe_run(service, probe_project, seed=5)
    assert adopted(settings, warm.id), runner_log(settings, warm.id)
    facts = [probe_facts(service, r) for r in (cold, warm)]
    assert facts[0] == facts[1], differences(facts)
    assert facts[1]["execution_counts"] == [1, 2] and facts[1]["history"] == 3  # In[0] is ""
    assert facts[1]["cgroup"] in ("RUN", facts[0]["cgroup"])
    records = [stable(service.store.environment(r.id) or {}) for r in (cold, warm)]
    assert records[0] == records[1], differences(records)
    kernel_logs = [(settings.runs_dir / r.id / "kernel.log").read_text() for r in (cold, warm)]
    assert kernel_logs[1].startswith("--- kernel start, attempt 1")
    assert [r.seed for r in (cold, warm)] == [5, 5]


def test_a_run_that_draws_its_seed_takes_a_warm_kernels_seed_once(
    service: JobService, probe_project: Path, settings: Settings, host: Any
) -> None:
    first = probe_run(service, probe_project, seed=None)  # its ask starts one for the next
    offered = wait_for_warm(settings, drawn=True)
    second = probe_run(service, probe_project, seed=None)
    assert adopted(settings, second.id), runner_log(settings, second.id)
    assert second.seed == offered["seed"] and first.seed != second.seed
    facts = probe_facts(service, second)
    assert facts["environ"]["PYTHONHASHSEED"] == str(second.seed)
    assert facts["environ"]["JUPYTER_MLOPS_SEED"] == str(second.seed)
    third_warm = wait_for_warm(settings, drawn=True)  # the next one, with a new seed
    assert third_warm["seed"] != second.seed


def test_cancelling_a_run_on_a_warm_kernel_kills_its_kernel(
    service: JobService, probe_project: Path, settings: Settings, tmp_path: Path, host: Any
) -> None:
    probe_run(service, probe_project, seed=3)
    gated = {"notebook": str(probe_project / "notebooks/gated.ipynb"), "seed": 3}
    wait_for_warm(settings, seed=3)
    sub = service.submit(RunSpec(**gated, parameters={"gate": str(tmp_path / "never")}))
    wait_until(lambda: service.store.require_run(sub.run.id).status == "running", 120)
    run = service.store.require_run(sub.run.id)
    assert adopted(settings, run.id), runner_log(settings, run.id)
    kernel = psutil.Process(run.kernel_pid)
    service.cancel(run.id)
    assert sub.handle is not None and sub.handle.wait(timeout=60) == 3
    assert service.store.require_run(run.id).status == "cancelled"
    wait_until(lambda: not kernel.is_running() or kernel.status() == psutil.STATUS_ZOMBIE, 60)


def test_killing_the_host_loses_no_warm_run_and_its_warm_kernels_go(
    service: JobService, probe_project: Path, settings: Settings, tmp_path: Path, host: Any
) -> None:
    probe_run(service, probe_project, seed=9)
    wait_for_warm(settings, seed=9)
    gate = tmp_path / "gate"
    spec = RunSpec(
        notebook=str(probe_project / "notebooks/gated.ipynb"),
        seed=9,
        parameters={"gate": str(gate)},
    )
    sub = service.submit(spec)
    wait_until(lambda: service.store.require_run(sub.run.id).status == "running", 120)
    assert adopted(settings, sub.run.id)
    wait_for_warm(settings, seed=9)  # the next one, idle
    os.killpg(host.pid, signal.SIGKILL)
    host.wait()
    wait_until(lambda: not warm_processes(), 60)  # the idle warm runner and its kernel
    assert service.reconcile() == []
    gate.touch()
    done = wait_for(service, sub)
    assert done.status == "succeeded", done.status_reason


def test_a_run_with_a_secret_parameter_starts_its_own_kernel(
    service: JobService, project: Path, settings: Settings, host: Any
) -> None:
    """Its value is never sent over a kernel's channels: a warm kernel of its kind and seed
    is killed, not adopted, and the run gets the value as any run does."""
    notebook = str(project / "notebooks/secret_param.ipynb")
    secret = "sk-live-warm-" + "x" * 20
    spec = RunSpec(notebook=notebook, seed=2, raw_parameters={"api_key": secret})
    first = wait_for(service, service.submit(spec))
    wait_for_warm(settings, seed=2)
    second = wait_for(service, service.submit(spec))
    assert [first.status, second.status] == ["succeeded"] * 2, second.status_reason
    log = runner_log(settings, second.id)
    assert "the warm kernel does not fit (secret parameters" in log and " adopted " not in log
    text = "".join(
        o.get("text", "")
        for c in executed_notebook(service, second.id).cells
        for o in c.get("outputs", [])
    )
    assert f"api_key length {len(secret)}" in text


def test_a_burst_of_drawn_seed_submits_keeps_one_warm_kernel_of_the_kind(
    service: JobService, settings: Settings, host: Any
) -> None:
    """Each seed is offered once, and runs that find none free draw their own: the host
    does not fork a warm runner per waiting run (``warm_kernels`` of a kind, reserved ones
    included)."""
    env = service.backend._runner_env()  # type: ignore[attr-defined]
    assert offer_seed(settings.data_dir, "python3", env) is None  # none yet: one is started
    first = wait_for_warm(settings, drawn=True)
    seeds = [offer_seed(settings.data_dir, "python3", env) for _ in range(5)]
    assert seeds == [first["seed"], None, None, None, None]
    listed = warm_runners(settings.data_dir) or []
    assert [(w["seed"], w["reserved"]) for w in listed] == [(first["seed"], True)]


def test_a_warm_runner_told_to_stop_takes_its_kernel_and_cgroup_with_it(
    service: JobService, probe_project: Path, settings: Settings, host: Any
) -> None:
    probe_run(service, probe_project, seed=6)
    warm = wait_for_warm(settings, seed=6)
    runner = psutil.Process(warm["pid"])
    kernels = runner.children()
    assert kernels, "the warm runner has no kernel"
    cgroup = own_cgroup(cgroup2_mount() or Path("/"), warm["pid"])
    runner.terminate()
    gone = [runner, *kernels]
    wait_until(lambda: all(not p.is_running() or p.status() == "zombie" for p in gone), 60)
    if cgroup is not None and cgroup.name.startswith("warm-"):
        wait_until(lambda: not cgroup.exists(), 60)
    assert not (settings.data_dir / "warm-kernels" / str(warm["pid"])).exists()
