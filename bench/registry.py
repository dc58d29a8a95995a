"""Registry serving speed: resolve ``models:/NAME@ALIAS`` and load a small model, warm.

One process, one SQLite store in a temporary directory: a run that logged a small torch
model (an MLP, about 20,000 parameters), registered as ``bench`` and aliased
``@production``. After one warm-up call, ``jupyter_mlops.load_model("models:/bench@
production")`` is timed ``--repeat`` times: each call opens the store, resolves the alias
(one indexed join), reads the blob from the artifact root, checks its sha256 and
``torch.load``s it. The median is printed against the goal.

    python bench/registry.py [--repeat 50]

Goal (issue 14): median < 50 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import option_parser

GOAL_MS = 50.0


def main() -> int:
    args = option_parser(__doc__, repeat=50).parse_args()
    import torch

    from jupyter_mlops.artifacts import artifact_row, open_artifact_store
    from jupyter_mlops.config import Settings
    from jupyter_mlops.store import RunStatus, RunStore
    from jupyter_mlops.store.runs import new_run
    from jupyter_mlops.tracking.models import load_model, saved_model

    with tempfile.TemporaryDirectory(prefix="mlops-bench-registry-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        store = RunStore.from_settings(settings)
        store.create_run(new_run("bench0000001", source="cli", backend="local", notebook_path="b"))
        net = torch.nn.Sequential(
            torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 16)
        )
        with saved_model(net) as (path, meta):
            sha, size = open_artifact_store(settings).put_file(path)
        store.add_artifact(artifact_row("bench0000001", "model", "model", sha, size, meta))
        store.transition("bench0000001", RunStatus.SUCCEEDED)
        store.register_version("bench", "bench0000001", "model", actor="bench")
        store.move_alias("bench", "production", 1, expected=None, actor="bench")
        store.close()

        uri = "models:/bench@production"
        load_model(uri, settings=settings)  # warm: imports, first connection
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            state = load_model(uri, settings=settings)
            times.append((time.perf_counter() - start) * 1000)
        assert torch.equal(state["0.weight"], net[0].weight.detach())
    median = statistics.median(times)
    print(
        f"load_model({uri!r}) warm: median {median:.1f} ms, min {min(times):.1f} ms, "
        f"max {max(times):.1f} ms over {args.repeat} calls ({size} bytes, "
        f"{meta['parameters']} parameters); goal < {GOAL_MS:.0f} ms: "
        + ("met" if median < GOAL_MS else "NOT met")
    )
    return 0 if median < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
