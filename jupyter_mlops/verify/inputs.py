"""The pre-flight check of a verified reproduction: is every recorded input still there?

Before anything of the reproduction is written or run, each input the original recorded
is compared with what this machine has now, and each gets a reason: ``same``,
``changed: old → new`` or ``missing``:

* the snapshot commit (it must still resolve in its git directory),
* the kernel (its kernelspec must be installed),
* the package versions (the original's environment record against the kernel's
  interpreter now: differences are warnings, refusals only with ``strict_env``),
* the datasets and upstream artifacts, by content hash (``RunStore.run_inputs`` and
  :func:`jupyter_mlops.datasets.fingerprint`).

A changed or missing dataset, commit or kernel refuses the reproduction
(:class:`InputsChanged`, exit code 2 / HTTP 409 naming it) unless ``allow_changed_inputs``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SAME = "same"
CHANGED = "changed"
MISSING = "missing"
ADDED = "added"
UNKNOWN = "unknown"
"""The input's record has no hash to compare (nothing to say either way)."""

MAX_PACKAGE_CHECKS = 200
"""Most package differences listed (the rest are counted in the last one's reason)."""


@dataclass
class InputCheck:
    kind: str
    """commit | kernel | package | dataset | artifact"""
    name: str
    status: str
    reason: str
    blocking: bool
    """Whether this difference refuses the reproduction (without allow_changed_inputs)."""
    original: str | None = None
    current: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class InputsChanged(ValueError):
    """An input of the original changed or is missing: the reproduction cannot reproduce it."""

    def __init__(self, run_id: str, checks: Sequence[InputCheck]) -> None:
        self.checks = list(checks)
        blocking = [c for c in checks if c.blocking]
        listed = "; ".join(f"{c.kind} {c.name}: {c.reason}" for c in blocking)
        super().__init__(
            f"run {run_id} cannot be reproduced as recorded: {listed} (give "
            "--allow-changed-inputs, or allow_changed_inputs in the request, to run anyway)"
        )


def _short(value: str | None) -> str:
    if value is None:
        return "none"
    return value[:12] if len(value) == 64 or len(value) == 40 else value


def compared(
    kind: str, name: str, original: str | None, current: str | None, blocking: bool
) -> InputCheck:
    """One input's check from its recorded and current value (None: missing now)."""
    if current is None:
        return InputCheck(kind, name, MISSING, MISSING, blocking, original, None)
    if original == current:
        return InputCheck(kind, name, SAME, SAME, False, original, current)
    reason = f"changed: {_short(original)} → {_short(current)}"
    return InputCheck(kind, name, CHANGED, reason, blocking, original, current)


def check_commit(git_dir: str, commit: str) -> InputCheck:
    from ..gitcmd import run_git

    try:
        proc = run_git(
            ["--git-dir", git_dir, "cat-file", "-e", f"{commit}^{{commit}}"],
            check=False,
            timeout=30,
        )
        current = commit if proc.returncode == 0 else None
    except Exception:
        current = None
    return compared("commit", git_dir, commit, current, blocking=True)


def check_kernel(kernel_name: str, installed: Iterable[str] | None = None) -> InputCheck:
    if installed is None:
        from ..kernels import list_kernelspecs

        installed = list_kernelspecs()
    present = kernel_name in set(installed)
    return compared("kernel", kernel_name, kernel_name, kernel_name if present else None, True)


_PACKAGES_PROBE = (
    "import json, importlib.metadata as m\n"
    "print('@@mlops-packages@@' + json.dumps({(d.metadata['Name'] or '').lower(): d.version "
    "for d in m.distributions() if d.metadata['Name']}))\n"
)


def current_packages(kernel_name: str) -> dict[str, str]:
    """{name: version} installed for the kernel's interpreter now (lower-case names)."""
    from ..kernels import kernel_python
    from ..probes import run_python_probe

    python = kernel_python(kernel_name) or sys.executable
    return run_python_probe(python, _PACKAGES_PROBE, "@@mlops-packages@@", timeout=60)


def package_key(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``Jupyter_Core`` is ``jupyter-core``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_packages(
    recorded: Mapping[str, str], current: Mapping[str, str], *, strict: bool
) -> list[InputCheck]:
    """Every package whose version differs, is gone or is new; one ``same`` line for the
    rest (listing hundreds of equal versions helps nobody)."""
    now = {package_key(k): v for k, v in current.items()}
    then = {package_key(k): str(v) for k, v in recorded.items()}
    checks = [
        compared("package", name, then[name], now.get(name), strict)
        for name in sorted(then)
        if then[name] != now.get(name)
    ]
    checks += [
        InputCheck("package", name, ADDED, f"added: {now[name]}", False, None, now[name])
        for name in sorted(set(now) - set(then))
    ]
    if len(checks) > MAX_PACKAGE_CHECKS:
        rest = len(checks) - MAX_PACKAGE_CHECKS
        checks = checks[:MAX_PACKAGE_CHECKS]
        checks[-1].reason += f" (and {rest} more differences)"
    same = len([n for n in then if then[n] == now.get(n)])
    if then:
        checks.insert(
            0, InputCheck("package", f"{same} of {len(then)} packages", SAME, SAME, False)
        )
    return checks


def snapshot_file_sha256(run: Any, uri: str) -> str | None:
    """The sha256 of the file ``uri`` as the run's snapshot holds it (a job reads its
    snapshot's copy of a file under its worktree, and so does its reproduction); None when
    the path is not a file of the snapshot."""
    from ..gitcmd import run_git

    try:
        relative = Path(uri).relative_to(run.worktree)
    except (ValueError, TypeError):
        return None
    if not run.commit_sha or not run.git_dir:
        return None
    try:
        proc = run_git(
            [
                "--git-dir",
                run.git_dir,
                "cat-file",
                "blob",
                f"{run.commit_sha}:{relative.as_posix()}",
            ],
            check=False,
            timeout=120,
        )
    except Exception:
        return None
    return hashlib.sha256(proc.stdout).hexdigest() if proc.returncode == 0 else None


def check_inputs_recorded(
    records: Sequence[Any],
    fingerprint: Callable[[str], Any],
    artifact_exists: Callable[[str], bool],
    in_snapshot: Callable[[str], str | None] = lambda uri: None,
) -> list[InputCheck]:
    """The datasets and upstream artifacts a run recorded as inputs
    (``RunStore.run_inputs`` records): a dataset the snapshot holds with the recorded
    content is the same (the reproduction reads that copy), any other is re-hashed with
    ``fingerprint``; an artifact's blob must still exist."""
    checks = []
    for record in records:
        kind = getattr(record, "kind", "dataset") or "dataset"
        label = f"{record.name} ({record.uri})" if record.name != record.uri else record.uri
        if not record.sha256:
            checks.append(InputCheck(kind, label, UNKNOWN, "no hash recorded", False))
            continue
        if kind == "artifact":
            present = artifact_exists(record.sha256)
            checks.append(
                compared(kind, label, record.sha256, record.sha256 if present else None, True)
            )
            continue
        if in_snapshot(record.uri) == record.sha256:
            checks.append(
                compared(kind, f"{label} (in the snapshot)", record.sha256, record.sha256, True)
            )
            continue
        try:
            current = fingerprint(record.uri).sha256
        except (FileNotFoundError, NotADirectoryError):
            current = None
        except Exception as err:  # unreadable now (permissions, network): not the same
            checks.append(
                InputCheck(kind, label, MISSING, f"missing: {err}", True, record.sha256, None)
            )
            continue
        checks.append(compared(kind, label, record.sha256, current, True))
    return checks


def recorded_inputs(store: Any, run_id: str) -> list[Any]:
    """The run's recorded inputs; [] where the store has no inputs table (yet)."""
    reader = getattr(store, "run_inputs", None)
    return list(reader(run_id)) if reader is not None else []


def check_run_inputs(
    store: Any, artifacts: Any, run: Any, *, strict_env: bool = False
) -> list[InputCheck]:
    """Every check above for the stored run ``run`` (see the module)."""
    checks = [check_commit(run.git_dir, run.commit_sha), check_kernel(run.kernel_name)]
    records = recorded_inputs(store, run.id)
    if records:
        from ..datasets import fingerprint

        checks += check_inputs_recorded(
            records, fingerprint, artifacts.exists, lambda uri: snapshot_file_sha256(run, uri)
        )
    environment = store.environment(run.id) or {}
    packages = environment.get("packages")
    if isinstance(packages, dict) and "error" not in packages and checks[1].status == SAME:
        try:
            now = current_packages(run.kernel_name)
        except Exception as err:
            checks.append(InputCheck("package", "*", UNKNOWN, f"could not list: {err}", False))
        else:
            checks += check_packages(packages, now, strict=strict_env)
    return checks


def refuse_changed(run_id: str, checks: Sequence[InputCheck], allow: bool) -> bool:
    """Raise :class:`InputsChanged` for a blocking difference unless ``allow``; whether
    any input changed (recorded on the reproduction)."""
    blocking = [c for c in checks if c.blocking]
    if blocking and not allow:
        raise InputsChanged(run_id, checks)
    return bool(blocking)


def checks_json(checks: Sequence[InputCheck]) -> list[dict[str, Any]]:
    return [c.to_json() for c in checks]
