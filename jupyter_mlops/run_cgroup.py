"""A cgroup v2 of its own for each run: the containment that no cell can step out of.

The runner is a child subreaper (:func:`jupyter_mlops.processes.become_subreaper`), so what
a cell daemonizes is re-parented to it while it lives, and the run's marker in the
environment finds what outlived a runner killed with SIGKILL. A daemon that also clears
its environment (``env -i``) after its runner was killed escapes both. A cgroup does not
leak that way: every process a run starts inherits it, leaving it needs the rights to
write another cgroup's ``cgroup.procs``, and ``cgroup.kill`` ends all of it at once, also a
runner stopped with SIGSTOP.

Where the machine offers a writable cgroup v2 hierarchy (a unified or hybrid mount,
enough rights: root, or a delegated systemd slice), the runner moves itself first thing
into ``<its own cgroup>/jupyter-mlops/<run id>`` (``c.MLOps.run_cgroup``: ``auto``; a
directory names another parent; ``off`` turns it off) and writes the path to
``<run dir>/cgroup``, where a reconciler in another process finds it. At the end of the
run the runner steps back into the cgroup it came from, kills the run's cgroup and
removes it. Without one, the subreaper and the marker are the containment, as before;
the runner log says which applied.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_FILE = "cgroup"
"""In the run directory: the absolute path of the run's cgroup."""
GROUP_DIR = "jupyter-mlops"
"""The directory, under the parent cgroup, that holds one cgroup per run."""
EMPTY_DEADLINE_S = 30.0
"""How long a killed cgroup may take to empty before it is left for the next look."""
STALE_AFTER_S = 60.0
"""An empty run cgroup this old is a leftover: its runner was killed and its run never
reconciled (a runner moves in within microseconds of making it)."""


def cgroup2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup`` on a unified machine,
    ``/sys/fs/cgroup/unified`` on a hybrid one), or None."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        head, _, tail = line.partition(" - ")
        if tail.split(" ", 1)[0] == "cgroup2":
            return Path(head.split(" ")[4])
    return None


def own_cgroup(mount: Path, pid: int | str = "self") -> Path | None:
    """The cgroup v2 directory a process is in (the ``0::`` line of ``/proc/PID/cgroup``)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            return mount / line[3:].lstrip("/")
    return None


def _procs(cgroup: Path) -> list[int]:
    try:
        return [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _populated(cgroup: Path) -> bool:
    try:
        events = (cgroup / "cgroup.events").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return bool(_procs(cgroup))
    return "populated 1" in events


def _sigkill(pids: list[int]) -> list[int]:
    """SIGKILL each of ``pids``; the ones that were signalled (the others are gone)."""
    killed: list[int] = []
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def _sweep_stale(parent: Path, keep: Path) -> list[Path]:
    """Remove the empty cgroups under ``parent`` (a :data:`GROUP_DIR`, which holds nothing
    but run cgroups) older than :data:`STALE_AFTER_S`: what a runner killed with SIGKILL
    leaves when nobody reconciles its run. They hold no process, but would pile up. One
    still in use is never empty, and one with child cgroups of its own refuses ``rmdir``.
    The cgroups removed."""
    removed: list[Path] = []
    now = time.time()
    try:
        siblings = [entry for entry in parent.iterdir() if entry.is_dir() and entry != keep]
    except OSError:
        return removed
    for cgroup in siblings:
        try:
            stale = now - cgroup.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if stale and not _populated(cgroup):
            with contextlib.suppress(OSError):
                cgroup.rmdir()
                removed.append(cgroup)
    return removed


def _kill_all(cgroup: Path) -> list[int]:
    """SIGKILL every process in ``cgroup`` (``cgroup.kill`` where the kernel has it, else
    one by one until it is empty), wait until it is empty and remove it. The pids seen."""
    seen = _procs(cgroup)
    try:
        (cgroup / "cgroup.kill").write_text("1")
    except OSError:  # before Linux 5.14: one by one, again for what forks meanwhile
        deadline = time.monotonic() + EMPTY_DEADLINE_S
        while (pids := _procs(cgroup)) and time.monotonic() < deadline:
            _sigkill(pids)
            seen += [pid for pid in pids if pid not in seen]
            time.sleep(0.02)
    deadline = time.monotonic() + EMPTY_DEADLINE_S
    while _populated(cgroup) and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        cgroup.rmdir()
    except FileNotFoundError:
        pass
    except OSError as err:
        log.warning("could not remove the cgroup %s: %s", cgroup, err)
    return seen


@dataclass
class RunCgroup:
    """The cgroup a runner moved itself into, and the one it came from."""

    path: Path
    origin: Path
    run_dir: Path

    @classmethod
    def enter(
        cls, run_id: str, run_dir: Path, setting: str, origin: Path | None = None
    ) -> tuple[RunCgroup | None, str]:
        """Move this process into a new cgroup for the run; it, or None, and a line for
        the runner log saying which containment applies and why. ``origin``: the cgroup
        the run's cgroup is made under (and stepped back into), when it is not this
        process's own."""
        if setting == "off":
            return None, "no per-run cgroup (c.MLOps.run_cgroup = 'off')"
        if setting != "auto" and not os.path.isabs(setting):
            return None, f"no per-run cgroup (c.MLOps.run_cgroup = {setting!r} is no directory)"
        mount = cgroup2_mount()
        origin = origin or (own_cgroup(mount) if mount else None)
        if mount is None or origin is None:
            return None, "no per-run cgroup (no cgroup v2 hierarchy on this machine)"
        parent = Path(setting) if setting != "auto" else origin / GROUP_DIR
        path = parent / run_id
        try:
            path.mkdir(parents=True, exist_ok=True)
            if _populated(path):
                # Another runner of this run lives in it (a Dask task run again after its
                # worker died, a duplicate start): not this runner's to join, nor to kill
                # when it ends; this one finds the run taken and ends without starting it.
                return None, f"no per-run cgroup ({path} holds another runner of this run)"
            (path / "cgroup.procs").write_text(str(os.getpid()))
        except OSError as err:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None, f"no per-run cgroup ({path} is not usable here: {err.strerror or err})"
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CGROUP_FILE).write_text(str(path))
        # Only in a directory of run cgroups alone: one named by the setting (a systemd
        # slice) may hold the empty cgroups of other software.
        swept = _sweep_stale(parent, keep=path) if parent.name == GROUP_DIR else []
        note = f" (removed {len(swept)} empty cgroups left by killed runners)" if swept else ""
        return cls(path, origin, run_dir), f"cgroup v2 {path}{note}"

    def hand_to_run(self, run_id: str, run_dir: Path, setting: str) -> tuple[RunCgroup | None, str]:
        """Make a new cgroup for the run (:meth:`enter`) and move every process of this one
        (a warm runner's, :mod:`jupyter_mlops.warm_pool`: this runner and its warm kernel)
        into it, then remove this one (cgroup v2 cannot rename a cgroup). None, with this
        cgroup killed, where that cannot be done whole: the warm kernel is then not used."""
        cgroup, line = RunCgroup.enter(run_id, run_dir, setting, origin=self.origin)
        if cgroup is None:
            self.close()
            return None, line
        deadline = time.monotonic() + EMPTY_DEADLINE_S
        while (pids := _procs(self.path)) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    (cgroup.path / "cgroup.procs").write_text(str(pid))
        try:
            self.path.rmdir()
        except OSError as err:
            log.warning("could not hand the cgroup %s to run %s: %s", self.path, run_id, err)
            _kill_all(self.path)
            return None, line
        with contextlib.suppress(OSError):
            (self.run_dir / CGROUP_FILE).unlink()
        return cgroup, f"{line} (with the warm runner's processes)"

    def kill_others(self) -> list[int]:
        """SIGKILL every process of the run but this runner (a cancel or a timeout: the
        runner still records the outputs)."""
        return _sigkill([pid for pid in _procs(self.path) if pid != os.getpid()])

    def close(self) -> list[int]:
        """Step back into the cgroup this runner came from, then kill what is left of the
        run and remove its cgroup. Where stepping back is refused, only the others are
        killed and the cgroup is left (it empties when this runner exits)."""
        try:
            (self.origin / "cgroup.procs").write_text(str(os.getpid()))
        except OSError as err:
            log.warning("could not leave the run's cgroup %s: %s", self.path, err)
            return self.kill_others()
        killed = _kill_all(self.path)
        with contextlib.suppress(OSError):
            (self.run_dir / CGROUP_FILE).unlink()
        return killed


def kill_run_cgroup(run_id: str, run_dir: str | None) -> list[int]:
    """For a reconciler: kill everything in the cgroup the run's runner recorded in its run
    directory, and remove it. Only a directory of a cgroup v2 hierarchy named for the run
    is touched, and never one this process is in. The pids seen."""
    if not run_dir:
        return []
    record = Path(run_dir) / CGROUP_FILE
    try:
        path = Path(record.read_text().strip())
    except OSError:
        return []
    mount = cgroup2_mount()
    mine = own_cgroup(mount) if mount else None
    if mount is None or path.name != run_id or not path.is_relative_to(mount):
        return []
    if mine is not None and mine.is_relative_to(path):
        return []  # this very process is in it (a command run from the run's kernel)
    killed = _kill_all(path) if path.is_dir() else []
    with contextlib.suppress(OSError):
        record.unlink()
    return killed
