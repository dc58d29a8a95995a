"""CLI start-up: ``jupyter mlops --help``, ``runs``, ``show``, ``run`` against ``papermill --help``.

Each command runs as a fresh process of this Python (``python -m jupyter_mlops.cli ...``,
``python -m papermill --help``), as a user or cron would start it, in a temporary git
repository and data directory holding a few runs; ``--rounds`` interleaved rounds (so the
machine's load hits every command alike). Printed per command: the median wall time, the
median import time (``python -X importtime``, the sum of every module's own time, in
separate rounds), the number of modules it imported (the same on a busy machine) and the
ratio of the wall time to ``papermill --help``'s, which imports papermill's execution stack
to print its usage. ``run`` submits a two-cell notebook without
``--wait`` (the run's own execution is not the CLI's start-up); each round waits for that
run to end before the next command starts.

    python bench/cli_startup.py [--rounds 7]

Goal (issue 17): every command below ``papermill --help`` (ratio < 1); ``--help`` and
``runs`` import no execution stack (``tests/test_cli_imports.py`` guards which modules).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import commit_all, option_parser
from overhead import make_notebook

from jupyter_mlops.config import Settings
from jupyter_mlops.store import RunStore

MLOPS = [sys.executable, "-m", "jupyter_mlops.cli"]
PAPERMILL_HELP = [sys.executable, "-m", "papermill", "--help"]


def run_command(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of ``cmd`` and what it wrote to stderr."""
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    return elapsed, result.stderr


def import_report(stderr: str) -> tuple[float, int]:
    """Seconds (the sum of the ``self`` column) and modules of ``-X importtime``'s report."""
    total_us = modules = 0
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            total_us += int(line.split(":", 1)[1].split("|", 1)[0])
            modules += 1
    return total_us / 1e6, modules


def wait_for_runs(store: RunStore, deadline_s: float = 300) -> None:
    """Until no run of the data directory is active (a submitted run's runner is done)."""
    deadline = time.monotonic() + deadline_s
    while store.active_runs():
        if time.monotonic() > deadline:
            sys.exit("a submitted run did not end")
        time.sleep(0.1)


def main() -> None:
    args = option_parser(__doc__, rounds=7).parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-cli-startup-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        make_notebook(repo / "trivial.ipynb", 2)
        commit_all(repo)
        data = root / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
        env["JUPYTER_MLOPS_DATA_DIR"] = str(data)
        store = RunStore.from_settings(Settings(data_dir=data))
        run_command([*MLOPS, "run", "trivial.ipynb", "--wait"], repo, env)
        shown = store.list_runs(limit=1).runs[0].id
        commands = {
            "papermill --help": PAPERMILL_HELP,
            "jupyter mlops --help": [*MLOPS, "--help"],
            "jupyter mlops runs": [*MLOPS, "runs"],
            "jupyter mlops show RUN": [*MLOPS, "show", shown],
            "jupyter mlops run NB": [*MLOPS, "run", "trivial.ipynb", "--no-progress"],
        }
        wall: dict[str, list[float]] = {name: [] for name in commands}
        imports: dict[str, list[float]] = {name: [] for name in commands}
        modules: dict[str, int] = {}
        try:
            for _ in range(args.rounds):
                for name, cmd in commands.items():
                    wall[name].append(run_command(cmd, repo, env)[0])
                    wait_for_runs(store)
            for _ in range(args.rounds):
                for name, cmd in commands.items():
                    _, stderr = run_command([cmd[0], "-X", "importtime", *cmd[1:]], repo, env)
                    seconds, modules[name] = import_report(stderr)
                    imports[name].append(seconds)
                    wait_for_runs(store)
        finally:
            wait_for_runs(store)
            store.close()

    baseline = statistics.median(wall["papermill --help"])
    print(f"rounds={args.rounds} (interleaved medians), this Python: {sys.executable}")
    print(f"{'command':26} {'wall s':>8} {'imports s':>10} {'modules':>8} {'vs papermill':>13}")
    for name in commands:
        seconds = statistics.median(wall[name])
        print(
            f"{name:26} {seconds:8.3f} {statistics.median(imports[name]):10.3f} "
            f"{modules[name]:8d} {seconds / baseline:12.2f}x"
        )


if __name__ == "__main__":
    main()
