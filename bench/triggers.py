"""On-commit triggers: commit -> run queued latency, by polling and with the git hook.

100 on-commit triggers over 10 repositories (10 per repository, on ``main``), watched by
two watchers sharing one SQLite store (as two scheduler processes would). Each round
commits to one repository and measures, for each of its triggers, the time from the
commit (its branch ref written) to the trigger's run row in the store (the run *queued*:
the submit records runs without executing them, as ``tests/recording.py`` does, so the
figure is the watcher's own cost). First by polling (every 2 s), then with the hook of
``jupyter mlops hooks install`` (the wake file). Duplicates (two runs for one trigger and
commit) must be 0.

    python bench/triggers.py [--repos 10] [--per-repo 10] [--rounds 10]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import commit_all, option_parser

from jupyter_mlops.jobs import RunSpec
from jupyter_mlops.scheduling.trigger_checks import branch_head
from jupyter_mlops.scheduling.triggers import TriggerWatcher, wake_file_for
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.models_triggers import Trigger
from jupyter_mlops.store.runs import new_run_id, run_values
from jupyter_mlops.store.triggers import TriggerStore
from jupyter_mlops.store.types import utcnow

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
GOAL_POLL, GOAL_HOOK = 2.0, 0.5


def recording_submit(store: RunStore):  # type: ignore[no-untyped-def]
    def submit(spec: RunSpec) -> str:
        now = utcnow()
        row = run_values(
            spec.run_id or new_run_id(),
            created_at=now,
            finished_at=now,
            status=RunStatus.SUCCEEDED.value,
            source=spec.source,
            backend="record",
            notebook_path=spec.notebook,
            branch=spec.branch,
            commit_sha=spec.at_commit or "",
            cells_total=0,
        )
        store.record_runs([row])
        return row["id"]

    return submit


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=b@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repos(root: Path, count: int) -> list[Path]:
    repos = []
    for i in range(count):
        repo = root / f"repo{i}"
        repo.mkdir()
        (repo / "train.ipynb").write_text(NOTEBOOK)
        commit_all(repo)
        repos.append(repo)
    return repos


def add_triggers(triggers: TriggerStore, repos: list[Path], per_repo: int) -> None:
    for repo in repos:
        head = branch_head(str(repo), "main")
        for j in range(per_repo):
            triggers.create(
                Trigger(
                    id=new_run_id(),
                    name=f"{repo.name}-{j}",
                    kind="commit",
                    notebook_path=f"{repo.name}/train.ipynb",
                    notebook_abspath=str(repo / "train.ipynb"),
                    parameters={},
                    gpus=0,
                    tags=[],
                    config={"branch": "main", "repo": str(repo), "paths": [], "policy": "each"},
                    state={"last_commit": head},
                    active=True,
                )
            )


def run_watchers(watchers: list[TriggerWatcher], stop: threading.Event) -> list[threading.Thread]:
    def loop(w: TriggerWatcher) -> None:
        while not stop.is_set():
            stop.wait(w.tick())

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in watchers]
    for t in threads:
        t.start()
    return threads


def measure(
    store: RunStore, repos: list[Path], per_repo: int, rounds: int, label: str
) -> list[float]:
    """Latencies (s) from each commit to each of its triggers' run rows."""
    latencies: list[float] = []
    for n in range(rounds):
        repo = repos[n % len(repos)]
        (repo / "data.txt").write_text(f"{label} {n}\n")
        git(repo, "add", "data.txt")
        git(repo, "commit", "-qm", f"round {n}")
        sha = git(repo, "rev-parse", "HEAD")
        # the commit exists from the moment its branch ref is written
        ref = repo / ".git" / "refs" / "heads" / "main"
        committed = datetime.fromtimestamp(ref.stat().st_mtime_ns / 1e9, UTC)
        deadline = time.monotonic() + 60
        while True:
            with store.reading() as session:
                from sqlalchemy import select

                from jupyter_mlops.store.models import Run

                created = session.scalars(select(Run.created_at).where(Run.commit_sha == sha)).all()
            if len(created) >= per_repo or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        latencies += [(c - committed).total_seconds() for c in created]
    return latencies


def main() -> None:
    args = option_parser(__doc__, repos=10, per_repo=10, rounds=10).parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-bench-triggers-") as tmp:
        root = Path(tmp)
        store = RunStore(f"sqlite:///{root / 'store.db'}")
        triggers = TriggerStore(store)
        repos = make_repos(root, args.repos)
        add_triggers(triggers, repos, args.per_repo)
        wake = wake_file_for(root / "data")
        figures = {}
        for mode in ("polling", "hook"):
            if mode == "hook":
                for repo in repos:
                    subprocess.run(
                        ["jupyter", "mlops", "hooks", "install", "--repo", str(repo)],
                        check=True,
                        capture_output=True,
                        env={"JUPYTER_MLOPS_DATA_DIR": str(root / "data"), **_path_env()},
                    )
            watchers = [
                TriggerWatcher(
                    triggers,
                    recording_submit(store),
                    holder=f"w{i}",
                    wake_file=wake if mode == "hook" else None,
                )
                for i in range(2)
            ]
            stop = threading.Event()
            threads = run_watchers(watchers, stop)
            time.sleep(0.5)  # both watchers have made their first pass (nothing new)
            figures[mode] = measure(store, repos, args.per_repo, args.rounds, mode)
            stop.set()
            for t in threads:
                t.join()
        with store.reading() as session:
            from sqlalchemy import select

            from jupyter_mlops.store.models_triggers import TriggerEvent

            pairs = session.execute(select(TriggerEvent.trigger_id, TriggerEvent.key)).all()
            from jupyter_mlops.store.models import Run

            runs = session.scalars(select(Run.commit_sha)).all()
        per_event = Counter(pairs)
        expected = 2 * args.rounds * args.per_repo
        print(f"{len(repos)} repositories x {args.per_repo} on-commit triggers, 2 watchers")
        for mode, values in figures.items():
            goal = GOAL_POLL if mode == "polling" else GOAL_HOOK
            median = statistics.median(values) if values else float("nan")
            print(
                f"commit -> run queued ({mode}): median {median:.3f} s, "
                f"max {max(values):.3f} s over {len(values)} runs (goal median < {goal} s)"
            )
        dupes = sum(n - 1 for n in per_event.values() if n > 1) + max(0, len(runs) - expected)
        print(f"runs {len(runs)} (expected {expected}); duplicates: {dupes} (must be 0)")
        store.close()


def _path_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}


if __name__ == "__main__":
    main()
