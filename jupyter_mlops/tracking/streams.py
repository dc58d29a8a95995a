"""Production figures for monitored streams: what metric triggers watch.

A stream is not a run: serving code logs ``log_metric("prod/accuracy", 0.87,
stream="churn-prod")`` for as long as it lives, and the figures are written at once (one
small transaction), so a trigger sees them within its next look.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..store import RunStore
from ..store.triggers import TriggerStore


def stream_value(key: str, value: Any) -> float | None:
    """``value`` as a float (NaN kept as a missing figure); a clear error otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"metric {key!r}: {value!r} is not a number") from None
    return None if math.isnan(number) else number


def push_to_stream(
    store: RunStore, stream: str, metrics: Mapping[str, Any], step: int | None = None
) -> int:
    """Append ``metrics`` to ``stream``; returns how many points were written."""
    if not isinstance(stream, str) or not stream.strip() or len(stream) > 255:
        raise ValueError("a stream name must be 1 to 255 characters")
    points = [(str(key), stream_value(key, value), step) for key, value in metrics.items()]
    return TriggerStore(store).push_points(stream.strip(), points)
