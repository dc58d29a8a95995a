"""Summaries of tabular files (CSV, Parquet) with pyarrow, bounded in cost.

The shape (shared with :mod:`jupyter_mlops.drift`, which compares two of them)::

    {"format": "csv" | "parquet", "rows": int, "sampled": bool, "sample_rows": int | None,
     "columns": [{"name", "type": "numeric" | "categorical" | "other", "count", "nulls",
                  # numeric
                  "mean", "std", "min", "max",
                  "quantiles": {"0.00": q, "0.05": q, ..., "1.00": q},   # 21 points
                  "histogram": {"edges": [21 floats], "counts": [20 ints]},
                  # categorical
                  "distinct", "top": [[value, count], ...]}]}          # at most 20

``rows`` is always the file's row count (Parquet's footer; a CSV is streamed through
once). Above ``sample_bytes`` the column summaries come from the first ``sample_rows``
rows only, and ``sampled`` says so; ``count``/``nulls`` are then the sample's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

QUANTILE_POINTS = [i / 20 for i in range(21)]
HISTOGRAM_BINS = 20
TOP_VALUES = 20
DEFAULT_SAMPLE_BYTES = 256 * 1024 * 1024
DEFAULT_SAMPLE_ROWS = 1_000_000
TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | Path) -> str | None:
    """``"csv"`` or ``"parquet"`` by the file's suffix (``.csv.gz`` counts), else None."""
    suffixes = [s.lower() for s in Path(str(path)).suffixes]
    for suffix in reversed(suffixes[-2:]):
        if suffix in TABULAR_SUFFIXES:
            return TABULAR_SUFFIXES[suffix]
    return None


def table_stats(
    path: str | Path,
    *,
    sample_bytes: int = DEFAULT_SAMPLE_BYTES,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    filesystem: Any = None,
    size: int | None = None,
) -> dict[str, Any] | None:
    """The summary of a CSV or Parquet file (see the module doc); None for any other file.

    ``filesystem`` is an fsspec filesystem for a remote ``path``; ``size`` spares a stat.
    A file that cannot be parsed as its suffix says raises ``ValueError``.
    """
    fmt = table_format(path)
    if fmt is None:
        return None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    if size is None:
        size = filesystem.size(str(path)) if filesystem is not None else Path(path).stat().st_size
    sampled = size > sample_bytes
    try:
        with _open(path, filesystem) as source:
            if fmt == "parquet":
                table, rows = _read_parquet(source, sampled, sample_rows)
            else:
                table, rows = _read_csv(source, str(path), sampled, sample_rows)
    except Exception as err:  # pyarrow's errors are many kinds: name the file and the cause
        if isinstance(err, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(f"{path} could not be read as {fmt}: {err}") from err
    sampled = sampled and table.num_rows < rows
    return {
        "format": fmt,
        "rows": rows,
        "sampled": sampled,
        "sample_rows": table.num_rows if sampled else None,
        "columns": [column_summary(name, table.column(name)) for name in table.column_names],
    }


class _open:
    """A local path as itself (pyarrow maps it), a remote one as an fsspec file."""

    def __init__(self, path: str | Path, filesystem: Any) -> None:
        self.path, self.filesystem, self.handle = path, filesystem, None

    def __enter__(self) -> Any:
        if self.filesystem is None:
            return str(self.path)
        self.handle = self.filesystem.open(str(self.path), "rb")
        return self.handle

    def __exit__(self, *exc: Any) -> None:
        if self.handle is not None:
            self.handle.close()


def _read_parquet(source: Any, sampled: bool, sample_rows: int) -> tuple[Any, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source)
    rows = parquet.metadata.num_rows
    if not sampled:
        return parquet.read(), rows
    batches = _take(parquet.iter_batches(batch_size=65_536), sample_rows)
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow), rows


def _read_csv(source: Any, name: str, sampled: bool, sample_rows: int) -> tuple[Any, int]:
    import pyarrow as pa
    from pyarrow import csv

    parse = csv.ParseOptions(delimiter="\t") if name.lower().endswith(".tsv") else None
    if not sampled:
        table = csv.read_csv(source, parse_options=parse)
        return table, table.num_rows
    reader = csv.open_csv(source, parse_options=parse)
    kept: list[Any] = []
    held = rows = 0
    for batch in reader:
        rows += batch.num_rows
        if held < sample_rows:
            kept.append(batch.slice(0, sample_rows - held))
            held += kept[-1].num_rows
    return pa.Table.from_batches(kept, schema=reader.schema), rows


def _take(batches: Iterator[Any], limit: int) -> list[Any]:
    kept: list[Any] = []
    held = 0
    for batch in batches:
        if held >= limit:
            break
        kept.append(batch.slice(0, limit - held))
        held += kept[-1].num_rows
    return kept


def _kind(arrow_type: Any) -> str:
    import pyarrow as pa

    t = pa.types
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "numeric"
    if (
        t.is_string(arrow_type)
        or t.is_large_string(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_dictionary(arrow_type)
    ):
        return "categorical"
    return "other"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def column_summary(name: str, column: Any) -> dict[str, Any]:
    """One column's entry of the summary (its kind decides which figures)."""
    kind = _kind(column.type)
    nulls = column.null_count
    summary: dict[str, Any] = {
        "name": name,
        "type": kind,
        "count": len(column) - nulls,
        "nulls": nulls,
    }
    if kind == "numeric":
        summary.update(_numeric(column))
    elif kind == "categorical":
        summary.update(_categorical(column))
    return summary


def _numeric(column: Any) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.drop_null(column.cast(pa.float64())).to_numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
            "quantiles": {},
            "histogram": {"edges": [], "counts": []},
        }
    quantiles = np.quantile(values, QUANTILE_POINTS)
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(
        values, bins=HISTOGRAM_BINS, range=(low, high) if high > low else (low - 0.5, high + 0.5)
    )
    return {
        "mean": _number(values.mean()),
        "std": _number(values.std()),
        "min": low,
        "max": high,
        "quantiles": {
            f"{p:.2f}": float(q) for p, q in zip(QUANTILE_POINTS, quantiles, strict=True)
        },
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def _categorical(column: Any) -> dict[str, Any]:
    import pyarrow.compute as pc

    counts = pc.value_counts(pc.drop_null(column)).flatten() if len(column) else None
    if counts is None or len(counts[0]) == 0:
        return {"distinct": 0, "top": []}
    values, frequencies = counts
    order = pc.array_sort_indices(frequencies, order="descending")
    top = order[:TOP_VALUES].to_pylist()
    value_list, freq_list = values.to_pylist(), frequencies.to_pylist()
    return {
        "distinct": len(values),
        "top": [[_jsonable(value_list[i]), int(freq_list[i])] for i in top],
    }


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, bool, int, float)) or value is None else str(value)
