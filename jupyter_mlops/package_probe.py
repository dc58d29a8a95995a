"""The environment record's Python and packages: the probe, and its cache on disk.

Reading every installed distribution's metadata is the dearest part of an environment
record: 0.6-0.9 s of CPU in an environment of a few hundred packages, spent by every run
on a thread beside its cells. The list only changes when packages are installed, upgraded
or removed, and each of those adds or removes entries (``*.dist-info``, ``*.pth``, the
package's own directory) in a directory on ``sys.path``, which changes that directory's
modification time and the names of the metadata directories in it. So the probe's result
is kept in the cache directory under a key made of the interpreter, its prefix, and each
``sys.path`` entry that holds installed packages with its modification time and those
names: any install, upgrade or removal makes a new key, and the next run probes again.

What the key cannot see is an edit of a package's metadata file in place (no installer
does that); the record says which runs read the cache (``packages_cache``: "hit", "miss"
or "disabled"), so such a record can be told apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("jupyter_mlops.environment")

# Runs in-process or with another interpreter (``python -c``), so it is plain source that
# works on old Pythons (3.8+) and imports nothing heavy; both paths execute this same code.
INTERPRETER_PROBE = r"""
import json, os, platform, re, sys

def probe():
    import importlib.metadata as md
    import importlib.util
    packages, sources = {}, {}
    for dist in md.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in packages:
            continue
        packages[key] = dist.version
        try:
            text = dist.read_text("direct_url.json")
        except Exception:
            text = None
        if text:
            try:
                info = json.loads(text)
                source = {"url": info.get("url")}
                vcs = info.get("vcs_info") or {}
                if vcs.get("commit_id"):
                    source["commit"] = vcs["commit_id"]
                if (info.get("dir_info") or {}).get("editable"):
                    source["editable"] = True
                sources[key] = source
            except Exception:
                pass
    torch_dist = None
    if "torch" in packages:
        torch_dist = {"version": packages["torch"]}
        try:
            spec = importlib.util.find_spec("torch")
            location = list(spec.submodule_search_locations or [])[0] if spec else None
        except Exception:
            location = None
        if location:
            torch_dist["location"] = os.path.realpath(location)
            mtimes = []
            for path in (location, os.path.join(location, "version.py")):
                try:
                    mtimes.append(os.stat(path).st_mtime_ns)
                except OSError:
                    mtimes.append(None)
            torch_dist["mtime_ns"] = mtimes
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "prefix": sys.prefix,
        },
        "packages": dict(sorted(packages.items())),
        "package_sources": dict(sorted(sources.items())),
        "torch_dist": torch_dist,
    }
"""

CACHE_PREFIX = "packages-"
DISTRIBUTION_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".pth", ".egg")


def path_fingerprint(entries: list[str]) -> list[tuple[str, int, list[str]]]:
    """The ``sys.path`` entries packages are found in, each with its modification time and
    the names of the distributions in it (the names alone tell an install, an upgrade or a
    removal, however coarse the file system's clock).

    A directory counts when it is a site directory or holds distribution metadata (or a
    ``.pth`` file); an archive on the path always counts. The others (the directory a
    runner started in, which differs for every run, a checkout's source tree) hold no
    installed distribution, so they are left out of the key."""
    fingerprint = []
    for entry in entries:
        try:
            mtime = os.stat(entry).st_mtime_ns
            names = _distributions_in(entry) if os.path.isdir(entry) else []
        except OSError:
            continue
        site = os.path.basename(entry) in ("site-packages", "dist-packages")
        if names or site or not os.path.isdir(entry):
            fingerprint.append((entry, mtime, names))
    return fingerprint


def _distributions_in(directory: str) -> list[str]:
    with os.scandir(directory) as entries:
        return sorted(e.name for e in entries if e.name.endswith(DISTRIBUTION_SUFFIXES))


def cache_key() -> str:
    """What the package list of this interpreter depends on, hashed."""
    identity = [sys.executable, sys.prefix, path_fingerprint(list(sys.path))]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def probe_this_interpreter(cache_dir: Path | None) -> dict[str, Any]:
    """:data:`INTERPRETER_PROBE` run here, from the cache while its key holds; with
    ``packages_cache``: "hit", "miss" or "disabled" (no cache directory)."""
    namespace: dict[str, Any] = {}
    exec(compile(INTERPRETER_PROBE, "<jupyter_mlops interpreter probe>", "exec"), namespace)
    probe, state = cached_packages(cache_dir, namespace["probe"])
    return {**probe, "packages_cache": state}


def cached_packages(
    cache_dir: Path | None, probe: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """This interpreter's probe result (``probe()``), from the cache while its key holds;
    and "hit", "miss" or "disabled" (no cache directory)."""
    if cache_dir is None:
        return probe(), "disabled"
    key = cache_key()
    path = Path(cache_dir) / f"{CACHE_PREFIX}{key[:32]}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key and isinstance(cached.get("probe"), dict):
            return cached["probe"], "hit"
    except (OSError, ValueError):
        pass
    result = probe()
    _write(path, {"key": key, "probe": result})
    return result, "miss"


def _write(path: Path, data: dict[str, Any]) -> None:
    """Atomically (a concurrent run reads the old file or the new, never half of one)."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".packages-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, default=str)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("could not cache the package list in %s: %s", path.parent, err)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
