"""Dataset inputs: hashing throughput against sha256sum, a cached use_dataset, table stats.

Three figures, each against its goal (issue 13):

* sha256 of one ``--size-mb`` file (default 1024) by ``jupyter_mlops.datasets``' hashing
  vs the ``sha256sum`` command on the same file, both from the page cache (the file is
  read once first), best of ``--repeat``; goal: at least 0.9x sha256sum's throughput.
* the second ``use_dataset`` of that unchanged file in an interactive run on SQLite
  (one ``stat``, a cache lookup, the input recorded in the store), median of
  ``--repeat`` x 20 calls; goal: under 5 ms.
* ``table_stats`` of a ``--rows`` row CSV (default 1,000,000: an int, a float with
  nulls, a 50-value category, a boolean), uncached, median of ``--repeat``; goal:
  under 2 s.

    python bench/datasets.py [--size-mb 1024] [--rows 1000000] [--repeat 3] [--dir DIR]

The data file is written back-dated by an hour (a data file is not written the instant
it is read; a file modified in the last 100 ms is never cached, see
``jupyter_mlops.datasets.statcache``). Everything lives in a temporary directory (under
``--dir`` when given: it needs ``--size-mb`` plus about 40 MB free) and is removed.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import option_parser

from jupyter_mlops.config import Settings
from jupyter_mlops.datasets.hashing import sha256_file
from jupyter_mlops.datasets.stats import table_stats
from jupyter_mlops.tracking import Tracker

MIB = 1024 * 1024


def write_random_file(path: Path, size_mb: int) -> None:
    block = random.Random(13).randbytes(8 * MIB)  # incompressible, fast to repeat
    with path.open("wb") as f:
        left = size_mb * MIB
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    categories = [f"cat{i:02d}" for i in range(50)]
    with path.open("w") as f:
        f.write("id,value,category,flag\n")
        for i in range(rows):
            value = "" if i % 97 == 0 else f"{rng.gauss(0, 1):.6f}"
            f.write(f"{i},{value},{categories[i % 50]},{'true' if i % 3 else 'false'}\n")


def best_seconds(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sha256sum(path: Path) -> str:
    out = subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True)
    return out.stdout.split()[0]


def hashing(path: Path, size_mb: int, repeat: int) -> tuple[float, float]:
    """(our MB/s, sha256sum's MB/s), both from the page cache, best of ``repeat``."""
    sha256sum(path)  # into the page cache
    ours = best_seconds(lambda: sha256_file(path), repeat)
    theirs = best_seconds(lambda: sha256sum(path), repeat)
    assert sha256_file(path) == sha256sum(path), "the hashes differ"
    return size_mb / ours, size_mb / theirs


def cached_use(root: Path, path: Path, repeat: int) -> tuple[float, float]:
    """(seconds of the first use_dataset, median seconds of a later one)."""
    os.environ.pop("JUPYTER_MLOPS_RUN_ID", None)
    tracker = Tracker(settings=Settings(data_dir=root / "mlops"))
    try:
        start = time.perf_counter()
        tracker.use_dataset(path, name="big")
        first = time.perf_counter() - start
        times = []
        for _ in range(repeat * 20):
            start = time.perf_counter()
            tracker.use_dataset(path, name="big")
            times.append(time.perf_counter() - start)
        assert len(tracker.store.run_inputs(tracker.run_id)) == 1
        return first, statistics.median(times)
    finally:
        tracker.close()


def main() -> None:
    parser = option_parser(__doc__, size_mb=1024, rows=1_000_000, repeat=3)
    parser.add_argument("--dir", default=None, help="Where the temporary files go.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-bench-datasets-", dir=args.dir) as tmp:
        root = Path(tmp)
        big = root / "big.bin"
        write_random_file(big, args.size_mb)
        ours, theirs = hashing(big, args.size_mb, args.repeat)
        ratio = ours / theirs
        print(f"(a) sha256 of a {args.size_mb} MiB file (page cache, best of {args.repeat})")
        print(f"  ours {ours:,.0f} MiB/s, sha256sum {theirs:,.0f} MiB/s: {ratio:.2f}x", end="")
        print(f"  (goal >= 0.9x: {'met' if ratio >= 0.9 else 'NOT met'})")

        first, again = cached_use(root, big, args.repeat)
        print(f"(b) use_dataset of the unchanged {args.size_mb} MiB file, interactive run")
        print(f"  first {first * 1000:,.0f} ms (hashed), then median {again * 1000:.2f} ms", end="")
        print(f"  (goal < 5 ms: {'met' if again < 0.005 else 'NOT met'})")
        big.unlink()

        table = root / "table.csv"
        write_csv(table, args.rows)
        size = table.stat().st_size
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            stats = table_stats(table)
            times.append(time.perf_counter() - start)
        assert stats is not None and stats["rows"] == args.rows
        median = statistics.median(times)
        print(f"(c) table_stats of a {args.rows:,}-row CSV ({size / MIB:.0f} MiB, 4 columns)")
        print(f"  median {median:.2f} s of {args.repeat}", end="")
        print(f"  (goal < 2 s: {'met' if median < 2 else 'NOT met'})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
