"""Cost of a job over bare papermill, measured in one session.

Runs the same trivial 3-cell notebook N times with the ``papermill`` CLI and with
``jupyter mlops run --wait`` (snapshot + store + detached runner + environment capture +
HTML), prints medians and their ratio; then the same for a 200-cell notebook and the
per-cell cost of each ((t200 - t3) / 197). Both tools run as fresh processes, as a user
or cron would call them, in a temporary git repository and data directory.

    python bench/overhead.py [--repeat 5]

Goals (issue 2): ratio <= 1.15 on the small notebook; per-cell cost no worse than
papermill's on the large one.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import KERNELSPEC, commit_all, option_parser
from nbformat.v4 import new_code_cell, new_notebook


def make_notebook(path: Path, cells: int) -> None:
    sources = ["x = 0"] + [f"x += {i}" for i in range(1, cells - 1)] + ["print(x)"]
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources[:cells]], metadata={"kernelspec": KERNELSPEC}
    )
    nbformat.write(nb, path)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    args = option_parser(__doc__, repeat=5).parse_args()

    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        make_notebook(repo / "small.ipynb", 3)
        make_notebook(repo / "large.ipynb", 200)
        (repo / "helpers.py").write_text("VALUE = 1\n")
        commit_all(repo)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
        env["JUPYTER_MLOPS_DATA_DIR"] = str(root / "data")

        def papermill(nb: str) -> list[str]:
            return ["papermill", nb, str(root / f"out-{nb}")]

        def mlops(nb: str) -> list[str]:
            return ["jupyter", "mlops", "run", nb, "--wait", "--no-progress"]

        # warm caches (disk, the torch probe cache, compiled bytecode) for both tools
        timed(papermill("small.ipynb"), repo, env)
        timed(mlops("small.ipynb"), repo, env)

        results: dict[tuple[str, str], list[float]] = {}
        for nb in ("small.ipynb", "large.ipynb"):
            for _ in range(args.repeat):  # interleaved, so drift hits both alike
                for name, cmd in (("papermill", papermill(nb)), ("mlops", mlops(nb))):
                    results.setdefault((name, nb), []).append(timed(cmd, repo, env))

    med = {key: statistics.median(values) for key, values in results.items()}
    print(f"repeat={args.repeat}, medians in seconds (2-core machine)")
    for nb in ("small.ipynb", "large.ipynb"):
        pm, ours = med[("papermill", nb)], med[("mlops", nb)]
        print(
            f"{nb:<12} papermill {pm:6.3f}   jupyter mlops run --wait {ours:6.3f}   "
            f"ratio {ours / pm:5.3f}"
        )
    per_cell = {
        name: (med[(name, "large.ipynb")] - med[(name, "small.ipynb")]) / 197
        for name in ("papermill", "mlops")
    }
    print(
        f"per-cell cost: papermill {per_cell['papermill'] * 1000:.2f} ms, "
        f"jupyter mlops {per_cell['mlops'] * 1000:.2f} ms "
        f"(ratio {per_cell['mlops'] / per_cell['papermill']:.2f})"
    )
    ratio = med[("mlops", "small.ipynb")] / med[("papermill", "small.ipynb")]
    print(f"goal small-notebook ratio <= 1.15: {'met' if ratio <= 1.15 else 'MISSED'}")
    print(
        f"goal per-cell cost <= papermill's: "
        f"{'met' if per_cell['mlops'] <= per_cell['papermill'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
