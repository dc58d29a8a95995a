"""A warm kernel: started before its run existed, made the run's own when the run begins.

A kernel start is most of a small job's fixed cost (0.9 s of its 1.6-2 s here). The runner
host (:mod:`jupyter_mlops.runner_host`) therefore keeps warm runners
(:mod:`jupyter_mlops.warm_pool`): forked runners-to-be, each with a kernel it launched
itself, never used. A run is handed to one whose kernel was launched exactly as the run's
own would be (the same kernel spec, interpreter, whole environment and seed, so
``PYTHONHASHSEED`` matches), and the runner *adopts* that kernel instead of starting one.

Adopting makes the kernel indistinguishable from one started cold for the run, in what the
notebook sees and in every check of the run's processes. One silent execute
(``silent=True, store_history=False``: no execution count, no history, no output) moves the
kernel into the notebook's directory (``os.getcwd()``, ``sys.path``, IPython's ``_dh``), gives
it the run's environment variables, and writes the run id over the placeholder
(:data:`MARKER_PLACEHOLDER`) of ``JUPYTER_MLOPS_RUN_ID`` in the kernel's *initial*
environment, which ``/proc/PID/environ`` shows and :mod:`jupyter_mlops.processes` reads to
prove a process is the run's (the runner host writes a forked runner's command line the
same way). Modules it imported for that are forgotten again. The kernel is the runner's
child and in the run's cgroup (the warm runner's, renamed), as a cold one is; its stderr
went to the file that becomes the run's ``kernel.log``.

A kernel is adopted only when nothing could tell: runs that ask for GPUs
(``CUDA_VISIBLE_DEVICES`` must be right before CUDA loads), that have secret parameters
(their values are never sent over the kernel's channels), of another kernel spec, seed or
environment, or whose id is not the placeholder's length, start their own kernel, as does a
run whose adoption fails (the warm kernel is killed first).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from .config import ENV_RUN_ID

log = logging.getLogger("jupyter_mlops.warm_kernel")

MARKER_PLACEHOLDER = "warm-kernel-"
"""``JUPYTER_MLOPS_RUN_ID`` of a warm kernel until its run adopts it: as long as a run id
(:func:`jupyter_mlops.store.runs.new_run_id`), and never one (not hex)."""
ADOPT_TIMEOUT_S = 30.0

# Runs in the kernel, in a namespace of its own (nothing is left in the user's).
_ADOPT_SOURCE = r"""
def _adopt(cwd, old_cwd, set_env, unset_env, key, old_value, new_value):
    import os, sys
    loaded = set(sys.modules)
    os.chdir(cwd)
    for name in unset_env:
        os.environ.pop(name, None)
    os.environ.update(set_env)
    sys.path[:] = [cwd if p == old_cwd else p for p in sys.path]
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        dh = shell.user_ns.get("_dh")
        if isinstance(dh, list):
            dh[:] = [type(d)(cwd) if str(d) == old_cwd else d for d in dh]
        if str(getattr(shell, "starting_dir", None)) == old_cwd:
            shell.starting_dir = type(shell.starting_dir)(cwd)
    old = f"{key}={old_value}\0".encode()
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
    with open("/proc/self/environ", "rb") as f:
        block = f.read()
    at = 0 if block.startswith(old) else block.find(b"\0" + old) + 1
    if at <= 0 and not block.startswith(old):
        raise RuntimeError("the kernel's environment has no run marker placeholder")
    where, new = start + at + len(key) + 1, new_value.encode()
    try:
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(where)
            mem.write(new)
    except OSError:
        import ctypes
        ctypes.memmove(where, new, len(new))
    with open("/proc/self/environ", "rb") as f:
        if f"{key}={new_value}\0".encode() not in f.read():
            raise RuntimeError("the run marker could not be written")
    import importlib
    importlib.invalidate_caches()
    for name in set(sys.modules) - loaded:
        del sys.modules[name]
"""


@dataclass
class WarmKernel:
    """A kernel a warm runner launched (its manager is this process's) and what it was
    launched for."""

    manager: Any
    log_offset: int
    kernel_name: str
    seed: int
    launch_env: dict[str, str]
    """``os.environ`` as the kernel was launched with it."""
    launch_cwd: str
    launched_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int | None:
        return getattr(self.manager.provisioner, "pid", None)

    def unusable_for(self, run: Any, secret_names: list[str], environ: dict[str, str]) -> str:
        """Why this kernel cannot be ``run``'s ('' when it can). ``environ`` is what the
        runner's own kernel would be launched with."""
        expected = {**environ, ENV_RUN_ID: MARKER_PLACEHOLDER}
        why = [
            (run.kernel_name != self.kernel_name, f"kernel {run.kernel_name}"),
            (run.seed != self.seed, "another seed"),
            (bool(run.gpus or run.cuda_visible_devices), "GPUs asked"),
            (bool(secret_names), "secret parameters"),
            (len(run.id) != len(MARKER_PLACEHOLDER), "a run id of another length"),
            (not self.manager.ipykernel, "not an IPython kernel"),
            (expected != self.launch_env, "another environment"),
            (self.manager.provisioner.process.poll() is not None, "the kernel exited"),
            (not _same_spec(self.manager, run.kernel_name), "its kernel spec changed"),
        ]
        return ", ".join(text for failed, text in why if failed)

    def adopt(self, cwd: Path, environ: dict[str, str], run_id: str) -> str:
        """Make the kernel the run's (see the module's docstring); '' or why it failed."""
        from jupyter_core.utils import run_sync

        try:
            initial = _initial_environment(self.pid)
            target = {**environ, **_launch_additions(self.launch_env, initial)}
            for name in set(self.launch_env) - set(initial):
                target.pop(name, None)
            target[ENV_RUN_ID] = run_id
            args = [
                str(cwd),
                self.launch_cwd,
                {k: v for k, v in target.items() if initial.get(k) != v},
                [k for k in initial if k not in target],
                ENV_RUN_ID,
                MARKER_PLACEHOLDER,
                run_id,
            ]
            code = (
                f"exec(compile({_ADOPT_SOURCE + '_adopt(*' + json.dumps(args) + ')'!r}, "
                "'<jupyter-mlops: adopt a warm kernel>', 'exec'), "
                "{'__builtins__': __builtins__})"
            )
            reply = run_sync(_execute_silently)(self.manager, code)
        except Exception as err:
            return f"{type(err).__name__}: {err}"
        if reply.get("status") != "ok":
            return f"{reply.get('ename', 'error')}: {reply.get('evalue', '')}"
        return ""

    def discard(self) -> None:
        """Kill the kernel and forget its connection file."""
        from jupyter_core.utils import run_sync

        try:
            run_sync(self.manager.shutdown_kernel)(now=True)
        except Exception:
            log.debug("the warm kernel was already gone", exc_info=True)


def _same_spec(manager: Any, kernel_name: str) -> bool:
    """Is ``kernel_name``'s spec now what the kernel was launched from?"""
    from .kernel_start import new_kernel_manager

    try:
        now = new_kernel_manager(kernel_name).kernel_spec
    except Exception:
        return False
    then = manager.kernel_spec
    return bool(
        now.argv == then.argv and now.env == then.env and now.resource_dir == then.resource_dir
    )


def _initial_environment(pid: int | None) -> dict[str, str]:
    import psutil

    return dict(psutil.Process(pid).environ())


def _launch_additions(launch_env: dict[str, str], initial: dict[str, str]) -> dict[str, str]:
    """What the kernel's launch added to its launcher's environment (the kernel spec's
    ``env``, ``JPY_PARENT_PID``): a cold kernel of the run gets the same."""
    return {k: v for k, v in initial.items() if launch_env.get(k) != v and k != ENV_RUN_ID}


async def _execute_silently(manager: Any, code: str) -> dict[str, Any]:
    """The content of the kernel's ``execute_reply`` to ``code`` run silently."""
    client = manager.client()
    client.start_channels()
    try:
        msg_id = client.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + ADOPT_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                reply = await client.get_shell_msg(timeout=1.0)
            except Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return dict(reply["content"])
        raise TimeoutError(f"the warm kernel did not answer within {ADOPT_TIMEOUT_S:g} s")
    finally:
        client.stop_channels()
