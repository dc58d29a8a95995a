"""The same GPU training as a job and as a plain Python process, on the same GPU.

Takes the code of ``examples/train_torch.ipynb`` (a small MLP on two moons, every step
logged with ``jupyter_mlops.log_metric``) and runs it N times each way:

* as a job: ``jupyter mlops run train_torch.ipynb -p epochs E --seed S --gpus 1 --wait``
  (snapshot, queue, kernel, papermill, environment capture, system metrics, artifacts);
* as a plain process: ``python train.py`` with the notebook's code cells concatenated,
  ``CUDA_VISIBLE_DEVICES`` set to the device the first job was given.

Both log to a run store in a temporary data directory (the plain process makes an
interactive run), so the difference is the cost of the job machinery. Prints medians of
the wall times, the job's own breakdown, the device each used and the final validation
loss of each (same seed, same code). Without a CUDA device it prints
``no CUDA device: skipped`` and exits 0.

    python bench/gpu.py [--repeat 3] [--epochs 20]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import option_parser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "train_torch.ipynb"


def cuda_device_count() -> int:
    """CUDA devices torch sees, asked in a subprocess (this process stays CUDA-free)."""
    probe = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    try:
        return int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def plain_script(epochs: int, seed: int) -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    injected = f"epochs = {epochs}\nseed = {seed}\n"
    return "\n\n".join([cells[0], injected, *cells[1:]]) + "\n"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout


def show(run_id: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        ["jupyter", "mlops", "show", run_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    args = option_parser(__doc__, repeat=3, epochs=20, seed=1234).parse_args()

    devices = cuda_device_count()
    if devices == 0:
        print("no CUDA device: skipped (torch.cuda.is_available() is False or torch missing)")
        return

    with tempfile.TemporaryDirectory(prefix="mlops-gpu-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        shutil.copy(NOTEBOOK, repo / "train_torch.ipynb")
        (repo / "train.py").write_text(plain_script(args.epochs, args.seed))
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
        env["JUPYTER_MLOPS_DATA_DIR"] = str(root / "data")
        job_cmd = [
            "jupyter",
            "mlops",
            "run",
            "train_torch.ipynb",
            "-p",
            "epochs",
            str(args.epochs),
            "--seed",
            str(args.seed),
            "--gpus",
            "1",
            "--wait",
            "--no-progress",
        ]

        # warm-up: disk caches, bytecode, the torch probe cache, CUDA's kernel cache
        _, out = timed(job_cmd, repo, env)
        first = show(out.strip().splitlines()[-1], env)
        device = first["cuda_visible_devices"]
        plain_env = {**env, "CUDA_VISIBLE_DEVICES": device, "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
        timed([sys.executable, "train.py"], repo, plain_env)

        job_times, plain_times, details, plain_out = [], [], [], ""
        for _ in range(args.repeat):
            elapsed, out = timed(job_cmd, repo, env)
            job_times.append(elapsed)
            details.append(show(out.strip().splitlines()[-1], env))
            elapsed, plain_out = timed([sys.executable, "train.py"], repo, plain_env)
            plain_times.append(elapsed)

    job, plain = statistics.median(job_times), statistics.median(plain_times)
    last = details[-1]
    used = (last.get("environment") or {}).get("kernel_cuda") or {}
    cells = sorted(last["cells"], key=lambda c: -(c["duration_s"] or 0))
    print(
        f"GPU device {device} ({used.get('device_name')}), {args.epochs} epochs, seed {args.seed}"
    )
    print(f"plain python   median {plain:7.2f} s  ({', '.join(f'{t:.2f}' for t in plain_times)})")
    print(f"job            median {job:7.2f} s  ({', '.join(f'{t:.2f}' for t in job_times)})")
    print(f"job overhead   {job - plain:+.2f} s ({job / plain:.2f}x)")
    peak = (used.get("max_memory_allocated") or 0) / 2**20
    print(
        f"job breakdown  run {last['duration_s']:.2f} s, slowest cell "
        f"{cells[0]['duration_s']:.2f} s (cell {cells[0]['cell_index']}); kernel used "
        f"cuda:{used.get('device')} = GPU {used.get('physical_device')}, peak {peak:.0f} MiB"
    )
    print(f"final val loss job {last['metrics'].get('final/val_loss')}")
    tail = [line for line in plain_out.splitlines() if "validation loss" in line]
    print(f"plain: {tail[-1] if tail else plain_out.strip()[-200:]}")


if __name__ == "__main__":
    main()
