"""What any input may hold, whichever way it came: a REST body, the CLI, a YAML parameters
file, a schedule.

One set of rules, because every path ends in the same store and the same responses:

* no NUL character in any string: PostgreSQL refuses it in text and JSON columns (a 500
  there, stored as-is on SQLite), and no name, tag or value needs one;
* only finite numbers: JSON has no NaN or Infinity; Python writes them anyway, so one
  stored ``timeout: Infinity`` turns every later response that carries it into invalid JSON;
* nesting at most :data:`MAX_DEPTH` levels: Python's parser and every recursive consumer
  (pydantic, ``json.dumps``, papermill's parameter cell) run out of stack on deep input;
* sizes within :class:`InputLimits` (configurable settings): one 10 MB parameter makes every
  page of the run list 10 MB.

The REST handlers read bodies with :func:`parse_json_body`; :meth:`jobs.RunSpec.check` and
:class:`~jupyter_mlops.scheduling.service.ScheduleService` apply the value rules to what
they are given, so a run or schedule from the CLI or a schedule firing meets the same ones.
Every violation is an :class:`InputError` (a ``ValueError``: a 400 in REST, exit code 2 in
the CLI) whose message names the field and says what to send instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings

MAX_DEPTH = 32
"""Levels of nesting (objects and arrays) a request body, or one value in it, may have."""
MAX_SEED = 2**32 - 1
"""The largest seed: NumPy's ``seed()`` takes 0 .. 2**32-1 (and the store's column more)."""
DRAWN_SEED_BOUND = 2**31 - 1
"""A seed drawn for a run is below this (any framework's seed function takes it): by the job
service, or ahead by the runner host for a warm kernel (:mod:`jupyter_mlops.warm_pool`)."""
SEED_RANGE = "an integer from 0 to 2**32-1 (4294967295)"
TAG_COLUMN_LENGTH = 255
"""The store's tag column: ``max_tag_length`` cannot exceed it."""
TEXT_COLUMN_LENGTH = 255
"""Names stored in a 255-character column (schedule name, cron expression)."""
MAX_GPUS = 4096
"""More GPUs than one machine has; a larger request is a typo (or an attack on the column)."""


class InputError(ValueError):
    """An input that breaks a rule of this module; the message says what to fix."""


@dataclass(frozen=True)
class InputLimits:
    """The size limits: the ``max_*`` settings of :class:`~jupyter_mlops.config.Settings`
    (declared, with their defaults, there)."""

    request_bytes: int
    parameter_bytes: int
    tags: int
    tag_length: int

    @classmethod
    def of(cls, settings: Settings) -> InputLimits:
        return cls(
            request_bytes=settings.max_request_bytes,
            parameter_bytes=settings.max_parameter_bytes,
            tags=settings.max_tags,
            tag_length=min(settings.max_tag_length, TAG_COLUMN_LENGTH),
        )


def size_text(n: int) -> str:
    """``1048576`` -> ``"1 MiB"``, ``70000`` -> ``"68.4 KiB"``."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- JSON bodies and values ------------------------------------------------------------------


def parse_json_body(body: bytes, limits: InputLimits) -> Any:
    """A request body as JSON, refused (:class:`InputError`) when larger than the limit,
    not JSON, nested too deeply, or holding a NUL or a non-finite number anywhere."""
    if len(body) > limits.request_bytes:
        raise InputError(
            f"the request body is {size_text(len(body))}; at most "
            f"{size_text(limits.request_bytes)} is accepted (setting max_request_bytes)"
        )
    try:
        data = json.loads(body)
    except RecursionError:
        raise InputError(_too_deep("the request body")) from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"the request body is not valid JSON: {err}") from None
    check_json_value(data, "")
    return data


def _too_deep(what: str) -> str:
    return f"{what} is nested too deeply (at most {MAX_DEPTH} levels of objects and arrays)"


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_json_value(value: Any, path: str) -> None:
    """``value`` and everything in it: no NUL in a string (keys too), no NaN or Infinity,
    at most :data:`MAX_DEPTH` levels. ``path`` names it in messages (``parameters.lr``;
    empty: the request body). Iterative, so a deep value cannot exhaust the stack here."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where or "the request body")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InputError(
                    f"{where or 'the request body'} must be a finite number "
                    f"(JSON has no NaN or Infinity), got {item!r}"
                )
        elif isinstance(item, (dict, list, tuple)):
            if depth + 1 > MAX_DEPTH:
                raise InputError(_too_deep(where.split("[")[0] or "the request body"))
            if isinstance(item, dict):
                entries: Iterable[tuple[Any, Any]] = item.items()
                for key in item:
                    if isinstance(key, str) and "\x00" in key:
                        raise InputError(
                            f"a name in {where or 'the request body'} contains a NUL "
                            "character (\\u0000); names cannot hold one"
                        )
            else:
                entries = enumerate(item)
            for key, child in reversed(list(entries)):
                stack.append((child, _child(where, key), depth + 1))


def check_text(value: Any, field: str) -> None:
    """No NUL character in ``value`` (when it is a string)."""
    if isinstance(value, str) and "\x00" in value:
        raise InputError(
            f"{field} contains a NUL character (\\u0000); remove it (no stored text can hold one)"
        )


def check_texts(fields: Mapping[str, Any]) -> None:
    """:func:`check_text` of each ``name: value``."""
    for name, value in fields.items():
        check_text(value, name)


def check_length(value: str | None, field: str, limit: int = TEXT_COLUMN_LENGTH) -> None:
    if value is not None and len(value) > limit:
        raise InputError(f"{field} is {len(value)} characters long; at most {limit} are accepted")


# -- the fields of a run or a schedule -------------------------------------------------------


def check_parameters(values: Mapping[str, Any], limits: InputLimits) -> None:
    """Each parameter's value: the rules of :func:`check_json_value` and at most
    ``limits.parameter_bytes`` as JSON (every run list carries the parameters)."""
    check_json_value(dict(values), "parameters")
    for name, value in values.items():
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
        if size > limits.parameter_bytes:
            raise InputError(
                f"parameter {name!r} is {size_text(size)}; one value may be at most "
                f"{size_text(limits.parameter_bytes)} (setting max_parameter_bytes): pass large "
                "data as a file or artifact and its path as the parameter"
            )


def check_tags(tags: Iterable[Any], limits: InputLimits) -> None:
    """At most ``limits.tags`` tags, each a non-empty string of at most
    ``limits.tag_length`` characters without NUL."""
    tags = list(tags)
    if len(tags) > limits.tags:
        raise InputError(
            f"{len(tags)} tags given; a run may have at most {limits.tags} (setting max_tags)"
        )
    for index, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag.strip():
            raise InputError(f"tags[{index}] must be a non-empty string, got {_shown(tag)}")
        check_text(tag, f"tags[{index}]")
        if len(tag) > limits.tag_length:
            raise InputError(
                f"tag {_shown(tag)} is {len(tag)} characters long; at most {limits.tag_length} "
                "are accepted (setting max_tag_length)"
            )


def check_timeout(timeout: Any) -> None:
    """None, or a positive, finite number of seconds."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InputError(f"timeout must be a number of seconds, got {_shown(timeout)}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(
            f"timeout must be a positive, finite number of seconds (or none), got {timeout!r}"
        )


def check_seed(seed: Any, what: str = "seed") -> None:
    """None, or an integer in 0 .. :data:`MAX_SEED` (``-1`` included: no sentinel here)."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"{what} must be {SEED_RANGE}, got {_shown(seed)}")


def check_gpus(gpus: Any) -> None:
    """An integer from 0 to :data:`MAX_GPUS`."""
    if isinstance(gpus, bool) or not isinstance(gpus, int) or not 0 <= gpus <= MAX_GPUS:
        raise InputError(f"gpus must be an integer from 0 to {MAX_GPUS}, got {_shown(gpus)}")


def parse_bound(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument ``name`` in ``low..high`` (``default`` when absent);
    ValueError saying what to send otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value
