"""Latency of the REST API on a store of 10,000 runs, through a real jupyter server.

Fills a SQLite store in a temporary data directory with 10,000 finished runs (each with
parameters, tags, status events, cell events, artifacts and metrics; bulk-inserted
through the store's ORM session), starts ``jupyter server`` as a subprocess with the
extension on a free port, then times with one keep-alive HTTP session:

* ``GET /mlops/api/runs?limit=50`` and ``GET /mlops/api/runs/{id}`` (N=50 each);
* ``POST /mlops/api/runs`` of a trivial notebook (N=10), one at a time on an idle
  server (each run finishes before the next submit), then N=10 back to back while the
  earlier runs execute. The request returns once the run is queued, not when it ends.

    python bench/api.py [--runs 10000] [--repeat 50] [--submits 10]

Goals (issue 3): median < 20 ms for list and detail, < 100 ms for submit. The server,
and every runner it started, is stopped at the end.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nbformat
import requests
from common import KERNELSPEC, commit_all, option_parser, synthetic_params
from nbformat.v4 import new_code_cell, new_notebook
from sqlalchemy import insert

from jupyter_mlops.processes import kill_tree
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.models import (
    Artifact,
    Environment,
    LatestMetric,
    Run,
    RunEvent,
    RunParam,
    RunTag,
)

TOKEN = "bench-token"


def make_project(root: Path) -> None:
    root.mkdir()
    nb = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("print(x + 1)")],
        metadata={"kernelspec": KERNELSPEC},
    )
    nbformat.write(nb, root / "trivial.ipynb")
    commit_all(root)


def fill_store(db_url: str, count: int, root: Path) -> list[str]:
    """Bulk-insert ``count`` finished runs; returns their ids, newest first."""
    rng = random.Random(0)
    store = RunStore(db_url)
    now = datetime.now(timezone.utc)
    runs, params, tags, events, artifacts, metrics = [], [], [], [], [], []
    ids = []
    notebooks = [f"project/notebook_{i}.ipynb" for i in range(20)]
    packages = {f"package-{i}": f"{i}.0.{i % 7}" for i in range(300)}
    for i in range(count):
        run_id = uuid.uuid4().hex[:12]
        ids.append(run_id)
        created = now - timedelta(minutes=10 + i)
        started = created + timedelta(seconds=1)
        finished = started + timedelta(seconds=rng.uniform(2, 600))
        status = "failed" if i % 17 == 0 else "succeeded"
        notebook = notebooks[i % len(notebooks)]
        runs.append(
            {
                "id": run_id,
                "created_at": created,
                "started_at": started,
                "finished_at": finished,
                "heartbeat_at": finished,
                "status": status,
                "status_reason": "cell 3 raised ValueError" if status == "failed" else None,
                "source": "ui",
                "backend": "local",
                "notebook_path": notebook,
                "notebook_abspath": str(root / notebook),
                "kernel_name": "python3",
                "gpus": 0,
                "seed": rng.randrange(2**31),
                "commit_sha": uuid.uuid4().hex + uuid.uuid4().hex[:8],
                "snapshot_ref": f"refs/mlops/runs/{run_id}",
                "git_dir": str(root / ".git"),
                "worktree": str(root),
                "notebook_relpath": notebook,
                "branch": "main",
                "base_commit": uuid.uuid4().hex + uuid.uuid4().hex[:8],
                "dirty": False,
                "private_repo": False,
                "run_dir": f"/tmp/runs/{run_id}",
                "runner_pid": 100000 + i,
                "runner_host": "bench",
                "cells_total": 5,
                "cells_done": 5,
            }
        )
        params += synthetic_params(run_id, i, rng)
        tags.append({"run_id": run_id, "tag": f"team-{i % 10}"})
        if i % 3 == 0:
            tags.append({"run_id": run_id, "tag": "nightly"})
        at = started
        for st in ("queued", "starting", "running", status):
            events.append({"run_id": run_id, "at": at, "kind": "status", "status": st})
        for cell in range(5):
            events.append(
                {
                    "run_id": run_id,
                    "at": at,
                    "kind": "cell",
                    "status": "ok",
                    "cell_index": cell,
                    "duration_s": 0.01 * cell,
                }
            )
        for name, kind, ctype in (
            ("output.ipynb", "notebook", "application/x-ipynb+json"),
            ("output.html", "html", "text/html; charset=utf-8"),
            ("runner.log", "log", "text/plain; charset=utf-8"),
        ):
            artifacts.append(
                {
                    "run_id": run_id,
                    "name": name,
                    "kind": kind,
                    "sha256": "0" * 64,
                    "size": 1000,
                    "content_type": ctype,
                    "created_at": finished,
                }
            )
        for key in ("loss", "accuracy", "f1"):
            metrics.append(
                {"run_id": run_id, "key": key, "step": 100, "value": rng.random(), "at": finished}
            )
    with store.writing() as session:
        session.execute(insert(Run), runs)
        session.execute(insert(RunParam), params)
        session.execute(insert(RunTag), tags)
        session.execute(insert(RunEvent), events)
        session.execute(insert(Artifact), artifacts)
        session.execute(insert(LatestMetric), metrics)
        session.execute(
            insert(Environment),
            [
                {
                    "run_id": run_id,
                    "captured_at": now,
                    "data": {"packages": packages, "python": "3.11"},
                }
                for run_id in ids[:100]
            ],
        )
    store.close()
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path, root: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config_dir = tmp / "jupyter-config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}}})
    )
    server_env = {**env, "JUPYTER_CONFIG_DIR": str(config_dir)}
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.log_level=WARN",
        ],
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"jupyter server exited:\n{(tmp / 'server.log').read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/api/status", headers=auth(), timeout=2).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("jupyter server did not start in 90 s")


def auth() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


def timed(session: requests.Session, method: str, url: str, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    resp = session.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status_code >= 300:
        sys.exit(f"{method} {url} -> {resp.status_code}: {resp.text[:500]}")
    return elapsed, resp


def wait_terminal(session: requests.Session, api: str, run_ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(run_ids)
    while pending and time.monotonic() < deadline:
        for run_id in list(pending):
            status = session.get(f"{api}/runs/{run_id}").json()["status"]
            if status not in ("queued", "starting", "running"):
                pending.discard(run_id)
        time.sleep(0.3)


def summary(name: str, samples: list[float], goal: float | None) -> None:
    median = statistics.median(samples)
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    if goal is None:
        verdict = "(no goal; for information)"
    else:
        verdict = f"(goal < {goal:.0f} ms: {'ok' if median < goal else 'MISSED'})"
    print(
        f"{name:<44} median {median:7.2f} ms   p95 {p95:7.1f} ms   "
        f"min {min(samples):6.1f}   max {max(samples):7.1f}   {verdict}"
    )


def main() -> None:
    args = option_parser(__doc__, runs=10_000, repeat=50, submits=10).parse_args()

    with tempfile.TemporaryDirectory(prefix="mlops-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        data.mkdir()
        root = tmp / "root"
        make_project(root)
        db_url = f"sqlite:///{data / 'mlops.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
        env["JUPYTER_MLOPS_DATA_DIR"] = str(data)

        start = time.perf_counter()
        ids = fill_store(db_url, args.runs, root)
        print(f"filled the store with {len(ids):,} runs in {time.perf_counter() - start:.1f} s")

        proc, url = start_server(tmp, root, env)
        api = f"{url}/mlops/api"
        submitted: list[str] = []
        try:
            session = requests.Session()
            session.headers.update(auth())
            detail_id = ids[0]  # newest filler run; it has an environment row
            for _ in range(5):  # warm up connection, caches, imports
                session.get(f"{api}/runs", params={"limit": 50})
                session.get(f"{api}/runs/{detail_id}")

            list_ms = []
            for _ in range(args.repeat):
                ms, resp = timed(session, "GET", f"{api}/runs", params={"limit": 50})
                list_ms.append(ms)
            assert len(resp.json()["runs"]) == 50
            detail_ms = []
            for _ in range(args.repeat):
                ms, resp = timed(session, "GET", f"{api}/runs/{detail_id}")
                detail_ms.append(ms)
            detail = resp.json()
            assert detail["environment"] and len(detail["cells"]) == 5

            filtered_ms = []
            for _ in range(args.repeat):
                ms, resp = timed(
                    session,
                    "GET",
                    f"{api}/runs",
                    params={"limit": 50, "tag": "nightly", "param": "lr:0.01", "q": "notebook_1"},
                )
                filtered_ms.append(ms)

            idle_ms = []
            for _ in range(args.submits):
                ms, resp = timed(session, "POST", f"{api}/runs", json={"notebook": "trivial.ipynb"})
                idle_ms.append(ms)
                submitted.append(resp.json()["id"])
                wait_terminal(session, api, submitted[-1:], timeout=120)
            burst_ms = []
            for _ in range(args.submits):
                ms, resp = timed(session, "POST", f"{api}/runs", json={"notebook": "trivial.ipynb"})
                burst_ms.append(ms)
                submitted.append(resp.json()["id"])
            wait_terminal(session, api, submitted, timeout=300)
            statuses = [session.get(f"{api}/runs/{r}").json()["status"] for r in submitted]

            print(f"store: {len(ids):,} runs (SQLite), server: jupyter server on {url}")
            summary(f"GET /runs?limit=50 (N={args.repeat})", list_ms, 20)
            summary(f"GET /runs/{{id}} (N={args.repeat})", detail_ms, 20)
            summary(f"GET /runs?tag&param&q&limit=50 (N={args.repeat})", filtered_ms, None)
            summary(f"POST /runs, idle server (N={args.submits})", idle_ms, 100)
            summary(f"POST /runs, back to back (N={args.submits})", burst_ms, 100)
            print(
                "submitted runs ended: "
                + ", ".join(f"{s} x{statuses.count(s)}" for s in sorted(set(statuses)))
            )
        finally:
            stop(proc, db_url)


def stop(proc: subprocess.Popen[bytes], db_url: str) -> None:
    """Stop the server, then kill any runner (and its kernel) still going."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    store = RunStore(db_url, migrate=False)
    try:
        for run in store.active_runs():
            kill_tree(run.kernel_pid)
            kill_tree(run.runner_pid)
    finally:
        store.close()


if __name__ == "__main__":
    main()
