"""The fast path: a job's fixed cost and per-cell cost, against papermill, in one session.

Prints the median of ``--rounds`` interleaved rounds (so drift in the machine's load hits
every contender alike) of:

* REST ``POST /runs`` -> ``succeeded`` for a trivial notebook, through a real
  ``jupyter server`` with the extension (goal <= 1.0 s), against jupyter-scheduler's
  POST -> COMPLETED measured at 4.1 s on this 2-core machine (it is not installed here);
* ``jupyter mlops run --wait`` against the ``papermill`` CLI of a lean venv (papermill,
  ipykernel and nbclient only, made once under ``--lean-venv``; ``--same-python`` uses this
  interpreter's papermill instead, which also imports the Jupyter server's packages:
  jsonschema's format checkers cost it 2-3 s more here), as fresh processes, each started
  by its path (no version manager's shim; goal <= 1.3x cold: with no runner host, the CLI
  forks itself into its runner, see ``jupyter_mlops.self_fork``);
* both again with the runner host up (``jupyter mlops worker``, with its warm kernels: how
  many runs adopted one is printed; goals <= 1.0 s and 1.0x);

then, once each:

* the per-cell cost of a ``--cells``-cell notebook run through REST, from the store's cell
  events (first to last cell finished, per cell; goal <= 5 ms), median of three, against
  nbclient alone on the same notebook (``jupyter execute``'s engine: the floor on this
  machine), interleaved;
* ``--burst`` one-cell runs submitted back to back through REST to a server with 2 run
  slots and the runner host up, in runs/min, against a sequential loop of the papermill
  CLI over the same notebook (goal >= 2x), and the submit latency of that burst (goal
  < 100 ms);
* ``RunStore.create_run`` with three parameters and two tags on SQLite (goal < 2 ms).

    python bench/latency.py [--rounds 7] [--cells 200] [--burst 100] [--creates 300]
    python bench/latency.py --submits-only [--burst 20]

``--submits-only`` measures only the back-to-back REST submits of the burst (their median
and quartiles, the runs left to end before the server stops): the quick check of the
submit path, small enough for a busy machine.

The server and every runner it started are stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from api import auth, start_server
from common import commit_all, option_parser
from overhead import make_notebook, timed

from jupyter_mlops.config import Settings
from jupyter_mlops.processes import kill_tree
from jupyter_mlops.runner_host import runner_host_up
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.runs import new_run, new_run_id

SCHEDULER_REFERENCE_S = 4.1
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "lost"}


class Api:
    def __init__(self, url: str) -> None:
        self.base = f"{url}/mlops/api"
        self.session = requests.Session()
        self.session.headers.update(auth())

    def submit(self, notebook: str) -> tuple[float, str]:
        start = time.perf_counter()
        resp = self.session.post(f"{self.base}/runs", json={"notebook": notebook}, timeout=60)
        elapsed = time.perf_counter() - start
        if resp.status_code != 201:
            sys.exit(f"submit failed: {resp.status_code} {resp.text[:500]}")
        return elapsed, resp.json()["id"]

    def status(self, run_id: str) -> str:
        resp = self.session.get(f"{self.base}/runs/{run_id}", timeout=60)
        return str(resp.json()["status"])

    def wait(self, run_id: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(run_id)
            if status in TERMINAL:
                return status
            time.sleep(0.02)
        sys.exit(f"run {run_id} did not end in {timeout:.0f} s")

    def submit_to_end(self, notebook: str) -> float:
        start = time.perf_counter()
        _, run_id = self.submit(notebook)
        status = self.wait(run_id)
        if status != "succeeded":
            sys.exit(f"run {run_id} ended {status}")
        return time.perf_counter() - start


def per_cell_ms(store: RunStore, run_id: str) -> float:
    cells = store.events(run_id, kind="cell")
    if len(cells) < 2:
        return float("nan")
    return 1000 * (cells[-1].at - cells[0].at).total_seconds() / (len(cells) - 1)


NBCLIENT_PER_CELL = """
import sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
stamps = []
NotebookClient(
    nb, kernel_name="python3", on_cell_executed=lambda **_: stamps.append(time.perf_counter())
).execute()
print(1000 * (stamps[-1] - stamps[0]) / (len(stamps) - 1))
"""


def nbclient_per_cell_ms(notebook: Path, env: dict[str, str]) -> float:
    """The floor: nbclient alone (what ``jupyter execute`` runs) on the same notebook,
    first to last cell finished, per cell, measured as :func:`per_cell_ms` measures ours."""
    out = subprocess.run(
        [sys.executable, "-c", NBCLIENT_PER_CELL, str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


LEAN_VENV = Path.home() / ".cache" / "jupyter-mlops-bench" / "lean-papermill"


def lean_papermill(venv: Path) -> str:
    """The ``papermill`` of a venv holding only papermill, ipykernel and nbclient (made
    on first use; it runs its notebooks on that venv's own kernel)."""
    exe = venv / "bin" / "papermill"
    if not exe.exists():
        print(f"making the lean papermill venv in {venv} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "papermill", "ipykernel", "nbclient"], check=True)
    return str(exe)


def this_jupyter() -> str:
    """``jupyter`` of this interpreter by its path, as the lean venv's ``papermill`` is run:
    a version manager's shim on ``PATH`` (pyenv's: 0.4 s of bash per command here) is no
    part of either contender."""
    exe = Path(sys.executable).parent / "jupyter"
    return str(exe) if exe.exists() else "jupyter"


def create_run_ms(data_dir: Path, count: int) -> float:
    store = RunStore.from_settings(Settings(data_dir=data_dir))
    params = {"lr": (0.01, "float"), "epochs": (3, "int"), "name": ("x", "str")}
    times = []
    for _ in range(count + 20):
        run = new_run(new_run_id(), source="cli", backend="local", notebook_path="nb.ipynb", seed=1)
        start = time.perf_counter()
        store.create_run(run, params=params, tags=["a", "b"])
        times.append(time.perf_counter() - start)
    store.close()
    return 1000 * statistics.median(times[20:])


def start_runner_host(data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``jupyter mlops worker`` for the data directory, once it answers."""
    host = subprocess.Popen(
        ["jupyter", "mlops", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not runner_host_up(data):
        if host.poll() is not None or time.monotonic() > deadline:
            sys.exit("the runner host did not start")
        time.sleep(0.2)
    return host


def adopted_runs(data: Path) -> set[str]:
    """The runs (of ``data``) whose runner adopted a warm kernel, from their runner logs."""
    return {
        log.parent.name
        for log in (data / "runs").glob("*/runner.log")
        if " warm kernel " in log.read_text(errors="replace")
        and " adopted " in log.read_text(errors="replace")
    }


def stop_server(proc: subprocess.Popen[bytes], store: RunStore) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
    for run in store.active_runs():
        kill_tree(run.kernel_pid)
        kill_tree(run.runner_pid)


def submits_only(api: Api, count: int) -> str:
    """``count`` REST submits of the one-cell notebook back to back; their figures."""
    times = [api.submit("one.ipynb") for _ in range(count)]
    ends = [api.wait(run_id) for _, run_id in times]
    ms = sorted(1000 * s for s, _ in times)
    q1, median, q3 = statistics.quantiles(ms, n=4)
    failed = [s for s in ends if s != "succeeded"]
    return (
        f"{count} back-to-back REST submits: median {median:.1f} ms (quartiles {q1:.1f}, "
        f"{q3:.1f}; min {ms[0]:.1f}) goal < 100 ms: {'met' if median < 100 else 'MISSED'}"
        + (f"; not succeeded: {failed}" if failed else "")
    )


def main() -> None:
    parser = option_parser(__doc__, rounds=7, cells=200, burst=100, creates=300)
    parser.add_argument("--submits-only", action="store_true")
    parser.add_argument("--lean-venv", type=Path, default=LEAN_VENV)
    parser.add_argument("--same-python", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-latency-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        make_notebook(repo / "trivial.ipynb", 2)
        make_notebook(repo / "one.ipynb", 1)
        make_notebook(repo / "large.ipynb", args.cells)
        commit_all(repo)
        data = root / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
        env.update(JUPYTER_MLOPS_DATA_DIR=str(data), JUPYTER_MLOPS_MAX_CONCURRENT_RUNS="2")
        pm_exe = "papermill" if args.same_python else lean_papermill(args.lean_venv)
        baseline = "same Python" if args.same_python else f"lean venv {args.lean_venv}"
        papermill = [pm_exe, "--no-progress-bar", "trivial.ipynb", str(root / "pm.ipynb")]
        mlops = [this_jupyter(), "mlops", "run", "trivial.ipynb", "--wait", "--no-progress"]

        proc, url = start_server(root, repo, env)
        store = RunStore.from_settings(Settings(data_dir=data))
        api = Api(url)
        if args.submits_only:
            try:
                api.submit_to_end("one.ipynb")  # the server's one-time costs
                print(submits_only(api, args.burst))
            finally:
                stop_server(proc, store)
            return
        try:
            api.submit_to_end("trivial.ipynb")  # warm caches for every contender
            timed(papermill, repo, env)
            timed(mlops, repo, env)
            rest, cli, pm = [], [], []
            for _ in range(args.rounds):
                rest.append(api.submit_to_end("trivial.ipynb"))
                cli.append(timed(mlops, repo, env))
                pm.append(timed(papermill, repo, env))
            host = start_runner_host(data, env)
            warm_rest, warm_cli, warm_pm = [], [], []
            try:
                api.submit_to_end("trivial.ipynb")
                timed(mlops, repo, env)  # the first of each kind starts the warm kernel
                for _ in range(args.rounds):
                    warm_rest.append(api.submit_to_end("trivial.ipynb"))
                    warm_cli.append(timed(mlops, repo, env))
                    warm_pm.append(timed(papermill, repo, env))
                adopted = adopted_runs(data)

                cell_ms, floor_ms = [], []
                for _ in range(3):  # interleaved, as the rounds above
                    _, large = api.submit("large.ipynb")
                    api.wait(large)
                    cell_ms.append(per_cell_ms(store, large))
                    floor_ms.append(nbclient_per_cell_ms(repo / "large.ipynb", env))

                start = time.perf_counter()
                submitted = [api.submit("one.ipynb") for _ in range(args.burst)]
                ends = [api.wait(run_id) for _, run_id in submitted]
                burst_s = time.perf_counter() - start
                burst_adopted = adopted_runs(data) - adopted
            finally:
                os.killpg(host.pid, signal.SIGKILL)
                host.wait()
            start = time.perf_counter()
            for _ in range(args.burst):
                timed(
                    [pm_exe, "--no-progress-bar", "one.ipynb", str(root / "pm1.ipynb")],
                    repo,
                    env,
                )
            loop_s = time.perf_counter() - start
        finally:
            stop_server(proc, store)
        create_ms = create_run_ms(root / "create-data", args.creates)

    contenders = {"rest": rest, "cli": cli, "pm": pm, "wrest": warm_rest, "wcli": warm_cli}
    contenders["wpm"] = warm_pm
    med = {name: statistics.median(v) for name, v in contenders.items()}
    submit_ms = statistics.median(1000 * s for s, _ in submitted)
    ours_rate, pm_rate = 60 * args.burst / burst_s, 60 * args.burst / loop_s
    cell, floor = statistics.median(cell_ms), statistics.median(floor_ms)
    failed = [s for s in ends if s != "succeeded"]
    lines = [
        f"rounds={args.rounds} (interleaved medians), papermill from the {baseline}",
        f"REST submit -> succeeded       {med['rest']:6.3f} s   jupyter-scheduler (reference, "
        f"not installed) {SCHEDULER_REFERENCE_S:.1f} s   goal <= 1.0 s: "
        f"{'met' if med['rest'] <= 1.0 else 'MISSED'}",
        f"jupyter mlops run --wait       {med['cli']:6.3f} s   papermill {med['pm']:6.3f} s   "
        f"ratio {med['cli'] / med['pm']:.2f} (cold, goal <= 1.3: "
        f"{'met' if med['cli'] / med['pm'] <= 1.3 else 'MISSED'})",
        f"with the runner host up: REST {med['wrest']:6.3f} s (goal <= 1.0 s: "
        f"{'met' if med['wrest'] <= 1.0 else 'MISSED'}), run --wait {med['wcli']:6.3f} s vs "
        f"papermill {med['wpm']:6.3f} s, ratio {med['wcli'] / med['wpm']:.2f} (goal <= 1.0: "
        f"{'met' if med['wcli'] / med['wpm'] <= 1.0 else 'MISSED'})",
        f"per-cell cost ({args.cells} cells)     {cell:6.2f} ms  nbclient alone {floor:.2f} ms "
        f"(the floor), ratio {cell / floor:.2f}  goal <= 5 ms: {'met' if cell <= 5 else 'MISSED'}",
        f"warm kernels adopted: {len(adopted)} runs of the rounds with the host up "
        f"({2 * args.rounds + 2} runs), {len(burst_adopted)} of the burst",
        f"{args.burst} one-cell runs, 2 slots, host up {ours_rate:6.1f} runs/min   "
        f"sequential papermill "
        f"{pm_rate:.1f} runs/min   ratio {ours_rate / pm_rate:.2f} (goal >= 2: "
        f"{'met' if ours_rate / pm_rate >= 2 else 'MISSED'})"
        + (f"; not succeeded: {failed}" if failed else ""),
        f"back-to-back REST submits      {submit_ms:6.1f} ms median  goal < 100 ms: "
        f"{'met' if submit_ms < 100 else 'MISSED'}",
        f"create_run (3 params, 2 tags)  {create_ms:6.2f} ms median  goal < 2 ms: "
        f"{'met' if create_ms < 2 else 'MISSED'}",
    ]
    print("\n".join(lines))
    print(json.dumps(contenders))


if __name__ == "__main__":
    main()
