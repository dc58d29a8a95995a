"""Datasets: content hashes (equal to ``sha256sum``'s), the stat cache, table statistics
and the ``run_inputs`` store, on real files, fsspec's ``memory://``, moto's S3 server,
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.datasets import DatasetError, fingerprint, table_stats
from jupyter_mlops.datasets.hashing import manifest_text
from jupyter_mlops.datasets.statcache import StatCache
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.inputs import input_record

from .conftest import make_run
from .test_artifacts import BUCKET, s3_endpoint, s3_env  # noqa: F401  (fixtures)

HOUR = 3600.0


def sha256sum(*paths: Path) -> list[str]:
    """The real ``sha256sum`` command's digests."""
    out = subprocess.run(
        ["sha256sum", *map(str, paths)], check=True, capture_output=True, text=True
    ).stdout
    return [line.split()[0] for line in out.splitlines()]


def aged(path: Path, seconds: float = HOUR) -> Path:
    """A file last written ``seconds`` ago, as a dataset normally is (files written in the
    last instant are never cached: see ``statcache.RACY_NS``)."""
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x", "y", "label"])
        for i in range(rows):
            out.writerow([i, i * 0.5 if i % 10 else "", "abc"[i % 3]])
    return aged(path)


@pytest.fixture
def cache(tmp_path: Path) -> StatCache:
    return StatCache(tmp_path / "cache" / "hashes.sqlite3")


class CountingCache(StatCache):
    """The real cache, counting lookups that found a hash (hits) and hashes stored."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.hits = 0
        self.stored = 0

    def file_hash(self, path, st):  # type: ignore[no-untyped-def]
        found = super().file_hash(path, st)
        self.hits += found is not None
        return found

    def remember_file(self, path, st, sha256, hashed_at_ns):  # type: ignore[no-untyped-def]
        self.stored += 1
        super().remember_file(path, st, sha256, hashed_at_ns)


# -- hashes ---------------------------------------------------------------------------


def test_file_hash_equals_sha256sum(tmp_path: Path, cache: StatCache) -> None:
    big = tmp_path / "blob.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 17))  # more than two read chunks
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for path in (big, empty):
        found = fingerprint(path, cache=cache)
        assert found.sha256 == sha256sum(path)[0]
        assert (found.size, found.file_count) == (path.stat().st_size, 1)
        assert found.uri == found.local_path == str(path)
        assert found.mtime == path.stat().st_mtime


def test_relative_path_resolves_against_base_dir(tmp_path: Path, cache: StatCache) -> None:
    (tmp_path / "data").mkdir()
    write_csv(tmp_path / "data" / "train.csv", 5)
    found = fingerprint("data/train.csv", base_dir=tmp_path, cache=cache)
    assert found.uri == str(tmp_path / "data" / "train.csv")
    assert fingerprint(f"file://{tmp_path}/data/train.csv", cache=cache).sha256 == found.sha256


def test_directory_is_a_sorted_manifest_of_sha256sum_lines(
    tmp_path: Path, cache: StatCache
) -> None:
    root = tmp_path / "images"
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "b" / "c.bin").write_bytes(b"\x00\x01")
    (root / "z.txt").write_text("zulu")
    found = fingerprint(root, cache=cache)
    files = ["a.txt", "b/c.bin", "z.txt"]
    digests = sha256sum(*(root / f for f in files))
    manifest = "".join(f"{d}  {f}\n" for f, d in zip(files, digests, strict=True))
    assert manifest_text(zip(files, digests, strict=True)) == manifest
    (tmp_path / "manifest").write_text(manifest)
    assert found.sha256 == sha256sum(tmp_path / "manifest")[0]
    assert (found.file_count, found.size) == (3, 5 + 2 + 4)

    os.utime(root / "a.txt")  # touched only: same content, same hash
    assert fingerprint(root, cache=cache).sha256 == found.sha256
    (root / "b" / "c.bin").rename(root / "b" / "d.bin")  # a renamed file changes it
    assert fingerprint(root, cache=cache).sha256 != found.sha256


def test_glob_hashes_the_matched_files(tmp_path: Path, cache: StatCache) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        (parts / f"part-{i}.csv").write_text(f"x\n{i}\n")
    (parts / "README").write_text("not data")
    found = fingerprint(str(parts / "part-*.csv"), cache=cache)
    assert found.file_count == 3
    assert found.uri == str(parts / "part-*.csv")
    only_parts = tmp_path / "only"
    only_parts.mkdir()
    for i in range(3):
        (only_parts / f"part-{i}.csv").write_text(f"x\n{i}\n")
    assert fingerprint(only_parts, cache=cache).sha256 == found.sha256
    with pytest.raises(DatasetError, match="matches no file"):
        fingerprint(str(parts / "*.parquet"), cache=cache)


def test_missing_path_names_the_absolute_path(tmp_path: Path, cache: StatCache) -> None:
    with pytest.raises(
        FileNotFoundError, match=f"dataset not found.*{re.escape(str(tmp_path))}/nope"
    ):
        fingerprint("nope.csv", base_dir=tmp_path, cache=cache)


# -- the stat cache ---------------------------------------------------------------------


def test_unchanged_file_is_not_read_again_and_a_change_is_seen(tmp_path: Path) -> None:
    cache = CountingCache(tmp_path / "c.sqlite3")
    data = tmp_path / "data.bin"
    data.write_bytes(b"one" * 1000)
    aged(data)
    first = fingerprint(data, cache=cache)
    assert (cache.hits, cache.stored) == (0, 1)
    again = fingerprint(data, cache=StatCache(cache.path))  # another process: same file
    assert again.sha256 == first.sha256
    assert fingerprint(data, cache=cache).sha256 == first.sha256
    assert cache.hits == 1

    os.utime(data)  # touched: a new mtime is a miss (rehashed, same content)
    assert fingerprint(data, cache=cache).sha256 == first.sha256
    assert cache.hits == 1

    data.write_bytes(b"two" * 1000)  # same size, new bytes, back-dated to the old mtime
    st = data.stat()
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    assert cache.file_hash(data, data.stat()) is None  # the mtime differs from the cached
    changed = fingerprint(data, cache=cache)
    assert changed.sha256 == sha256sum(data)[0] != first.sha256


def test_a_file_written_this_instant_is_not_cached(tmp_path: Path) -> None:
    cache = CountingCache(tmp_path / "c.sqlite3")
    fresh = tmp_path / "fresh.bin"
    fresh.write_bytes(b"new")
    fingerprint(fresh, cache=cache)
    assert cache.file_hash(fresh, fresh.stat()) is None


def test_cache_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    cache = StatCache(blocker / "c.sqlite3")
    data = write_csv(tmp_path / "t.csv", 3)
    assert fingerprint(data, cache=cache).sha256 == sha256sum(data)[0]


def test_processes_share_one_cache_file(tmp_path: Path) -> None:
    """Four processes hash the same files into one cache file at once: every hash right,
    every file cached once, then found by a fifth process without reading."""
    files = []
    for i in range(20):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(os.urandom(64 * 1024) + bytes([i]))
        files.append(aged(path))
    cache_path = tmp_path / "shared.sqlite3"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from jupyter_mlops.datasets import fingerprint\n"
        "from jupyter_mlops.datasets.statcache import StatCache\n"
        "cache = StatCache(Path(sys.argv[1]))\n"
        "for name in sys.argv[2:]:\n"
        "    print(fingerprint(name, cache=cache).sha256)\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache_path), *map(str, files)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    expected = sha256sum(*files)
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.split() == expected
    later = CountingCache(cache_path)
    assert [fingerprint(f, cache=later).sha256 for f in files] == expected
    assert (later.hits, later.stored) == (20, 0)


# -- table statistics ---------------------------------------------------------------


def test_csv_statistics(tmp_path: Path, cache: StatCache) -> None:
    data = write_csv(tmp_path / "train.csv", 1000)
    stats = fingerprint(data, cache=cache).stats
    assert stats is not None
    assert (stats["format"], stats["rows"], stats["sampled"], stats["sample_rows"]) == (
        "csv",
        1000,
        False,
        None,
    )
    x, y, label = stats["columns"]
    assert (x["name"], x["type"], x["count"], x["nulls"]) == ("x", "numeric", 1000, 0)
    assert (x["mean"], x["min"], x["max"]) == (499.5, 0.0, 999.0)
    assert list(x["quantiles"]) == [f"{i / 20:.2f}" for i in range(21)]
    assert x["quantiles"]["0.00"] == 0.0 and x["quantiles"]["1.00"] == 999.0
    assert len(x["histogram"]["edges"]) == 21 and sum(x["histogram"]["counts"]) == 1000
    assert y["nulls"] == 100 and y["count"] == 900
    assert label["type"] == "categorical" and label["distinct"] == 3
    assert label["top"][0] == ["a", 334]


def test_parquet_statistics_and_sampling(tmp_path: Path, cache: StatCache) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    table = pa.table({"v": pa.array(range(10_000), pa.int64()), "c": ["k"] * 10_000})
    pq.write_table(table, path, row_group_size=1000)
    full = table_stats(path)
    assert full is not None
    assert (full["format"], full["rows"], full["sampled"]) == ("parquet", 10_000, False)
    assert full["columns"][0]["mean"] == 4999.5
    sample = table_stats(path, sample_bytes=1, sample_rows=2500)
    assert sample is not None
    assert (sample["rows"], sample["sampled"], sample["sample_rows"]) == (10_000, True, 2500)
    assert sample["columns"][0]["max"] == 2499.0

    csv_path = write_csv(tmp_path / "big.csv", 5000)
    sampled_csv = table_stats(csv_path, sample_bytes=1, sample_rows=100)
    assert sampled_csv is not None
    assert (sampled_csv["rows"], sampled_csv["sample_rows"]) == (5000, 100)


def test_not_tabular_and_broken_tables(tmp_path: Path, cache: StatCache) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert table_stats(tmp_path / "notes.txt") is None
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"broken\.parquet could not be read as parquet"):
        table_stats(broken)
    recorded = fingerprint(aged(broken), cache=cache)  # still hashed and recorded
    assert recorded.sha256 == sha256sum(broken)[0]
    assert recorded.stats is not None and "could not be read" in recorded.stats["error"]


# -- fsspec URLs --------------------------------------------------------------------


@pytest.fixture
def memory_fs() -> Iterator[object]:
    import fsspec

    fs = fsspec.filesystem("memory")
    yield fs
    fs.rm("/datasets", recursive=True) if fs.exists("/datasets") else None


def test_memory_url(memory_fs, tmp_path: Path, cache: StatCache) -> None:  # type: ignore[no-untyped-def]
    local = write_csv(tmp_path / "t.csv", 50)
    memory_fs.pipe("/datasets/t.csv", local.read_bytes())
    memory_fs.pipe("/datasets/more/u.txt", b"u")
    found = fingerprint("memory://datasets/t.csv", cache=cache)
    assert found.sha256 == sha256sum(local)[0]
    assert found.local_path == found.uri == "memory://datasets/t.csv"
    assert found.stats is not None and found.stats["rows"] == 50
    tree = fingerprint("memory://datasets", cache=cache)
    assert tree.file_count == 2
    with pytest.raises(FileNotFoundError, match=r"memory://datasets/none\.csv"):
        fingerprint("memory://datasets/none.csv", cache=cache)


def test_s3_url_records_etag_and_matches_sha256sum(
    s3_env: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    import s3fs

    cache = CountingCache(tmp_path / "c.sqlite3")
    local = write_csv(tmp_path / "t.csv", 200)
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_env})
    fs.pipe(f"{BUCKET}/data/t.csv", local.read_bytes())
    fs.invalidate_cache()
    url = f"s3://{BUCKET}/data/t.csv"
    found = fingerprint(url, cache=cache)
    assert found.sha256 == sha256sum(local)[0]
    assert found.etag and found.size == local.stat().st_size
    assert found.stats is not None and found.stats["rows"] == 200
    assert cache.remote_hash(url, '"none"') is None
    again = fingerprint(url, cache=cache)
    assert again.sha256 == found.sha256 and again.etag == found.etag
    fs.pipe(f"{BUCKET}/data/t.csv", b"x\n1\n")  # a new object: new ETag, new hash
    fs.invalidate_cache()
    assert fingerprint(url, cache=cache).sha256 != found.sha256
    prefix = fingerprint(f"s3://{BUCKET}/data", cache=cache)
    assert prefix.file_count == 1


# -- the store ------------------------------------------------------------------------


@pytest.fixture
def db_store(db_url: str) -> Iterator[RunStore]:
    s = RunStore(db_url)
    yield s
    s.close()


@pytest.mark.postgres
def test_run_inputs_store_and_lineage_queries(
    db_store: RunStore, tmp_path: Path, cache: StatCache
) -> None:
    v1 = fingerprint(write_csv(tmp_path / "train.csv", 10), cache=cache)
    for run_id in ("r1", "r2", "r3"):
        db_store.create_run(make_run(run_id))
    db_store.add_run_input(input_record("r1", v1, name="train_path", source="parameter"))
    db_store.add_run_input(input_record("r2", v1))
    v2 = fingerprint(write_csv(tmp_path / "train.csv", 20), cache=cache)
    db_store.add_run_input(input_record("r3", v2))
    db_store.add_run_input(input_record("r3", v2))  # the same name again: replaced

    (row,) = db_store.run_inputs("r1")
    assert (row.name, row.kind, row.source, row.uri) == (
        "train_path",
        "dataset",
        "parameter",
        v1.uri,
    )
    assert (row.sha256, row.size, row.file_count) == (v1.sha256, v1.size, 1)
    assert row.stats == v1.stats and row.stats["rows"] == 10
    assert len(db_store.run_inputs("r3")) == 1
    assert [r.run_id for r in db_store.runs_using(v1.sha256)] == ["r1", "r2"]
    versions = db_store.dataset_versions(v1.uri)
    assert [(v.sha256, v.run_ids, v.rows) for v in versions] == [
        (v2.sha256, ["r3"], 20),
        (v1.sha256, ["r1", "r2"], 10),
    ]
    (known,) = db_store.known_datasets()
    assert known.uri == v1.uri and known.names == sorted(["train_path", v1.uri])
    db_store.delete_run("r1")  # the run's inputs go with it
    assert [r.run_id for r in db_store.runs_using(v1.sha256)] == ["r2"]
    with pytest.raises(ValueError, match="input source"):
        input_record("r2", v1, source="guess")
