"""What a rebuild needs to know about the runtime beyond Python and the packages: whether
the run was in a container (and which image, where the platform says), and whether its
packages come from a lock file in the snapshot.

Recorded in the run's environment record (``container``, ``lock_files``) by the runner;
both are cheap file checks, never a subprocess.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CGROUP_MARKERS = re.compile(r"docker|kubepods|containerd|libpod|podman|lxc|crio")
IMAGE_VARIABLES = ("JUPYTER_IMAGE_SPEC", "JUPYTER_IMAGE", "CONTAINER_IMAGE", "DOCKER_IMAGE")
"""Where platforms name the image a container runs (JupyterHub's KubeSpawner sets the
first two); a container cannot otherwise see its own image."""

LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "pixi.lock",
    "requirements.lock",
)
PINNED_REQUIREMENT = re.compile(r"^\s*[A-Za-z0-9_.\[\],-]+\s*===?\s*[^\s;#]+")


def container_facts(
    root: Path = Path("/"), environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``{"in_container", "evidence", "image"}``: ``/.dockerenv``, ``/run/.containerenv``
    or a container runtime named in ``/proc/1/cgroup``; the image from the platform's
    variables when set."""
    env = os.environ if environ is None else environ
    evidence = None
    for marker in (".dockerenv", "run/.containerenv"):
        if (root / marker).exists():
            evidence = f"/{marker}"
            break
    if evidence is None:
        try:
            cgroup = (root / "proc/1/cgroup").read_text(errors="replace")
        except OSError:
            cgroup = ""
        found = CGROUP_MARKERS.search(cgroup)
        if found:
            evidence = f"/proc/1/cgroup names {found.group(0)}"
    image = next((env[v] for v in IMAGE_VARIABLES if env.get(v)), None)
    return {"in_container": evidence is not None, "evidence": evidence, "image": image}


def _pinned_requirements(path: Path) -> bool:
    """A requirements file in which every requirement is pinned with ``==``."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return False
    wanted = [line for line in lines if line.strip() and not line.lstrip().startswith(("#", "-"))]
    return bool(wanted) and all(PINNED_REQUIREMENT.match(line) for line in wanted)


def lock_files(*directories: Path) -> list[str]:
    """Lock files (and fully pinned ``requirements*.txt``) in these directories of the
    snapshot, as paths relative to the first one."""
    base = directories[0] if directories else Path(".")
    found: list[str] = []
    for directory in dict.fromkeys(directories):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.name in LOCK_FILES or (
                path.name.startswith("requirements")
                and path.suffix == ".txt"
                and _pinned_requirements(path)
            ):
                try:
                    found.append(str(path.relative_to(base)))
                except ValueError:
                    found.append(str(path))
    return found


def runtime_facts(run_dir: Path, notebook_relpath: str) -> dict[str, Any]:
    """The ``container`` and ``lock_files`` entries of a run's environment record; the
    snapshot is materialized in ``run_dir/src`` (lock files at its root or beside the
    notebook)."""
    source = run_dir / "src"
    return {
        "container": container_facts(),
        "lock_files": lock_files(source, (source / notebook_relpath).parent),
    }
