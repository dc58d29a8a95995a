"""One warm runner, in the process the runner host forked for it (see
:mod:`jupyter_mlops.warm_pool`): launch a kernel, wait for a run, become its runner.

Until a run comes, the process is set up as a runner is before its run (its own session, a
child subreaper, a cgroup of its own, ``warm-<pid>``), in a directory of its own under
:data:`~jupyter_mlops.warm_pool.POOL_DIR`, where its output (``runner.log``) and its kernel's
stderr (``kernel.log``) go. On a run it names itself the run's runner, tells the host, and
moves both logs into the run directory by ``rename`` (the kernel keeps writing to its file,
which is now the run's) and its cgroup to the run's name (in :func:`jupyter_mlops.runner.main`).
Where a log cannot be moved (another file system, a log already there), the kernel is not
used: it is killed and the run starts its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
from pathlib import Path
from typing import Any

from .warm_pool import WarmSpec

log = logging.getLogger("jupyter_mlops.warm_runner")

WARM_RUNNER_ARG = "--warm-kernel"
"""In a warm runner's command line (``python -m jupyter_mlops.runner_host --warm-kernel
KERNEL``) until a run takes it."""


def warm_runner_main(
    spec: WarmSpec, seed: int, sock: socket.socket, root: Path, renderer: Any
) -> int:
    from .config import ENV_RUN_ID, Settings
    from .kernel_start import KERNEL_LOG, KernelStarter, new_kernel_manager
    from .processes import RUNNER_LOG, become_subreaper, kill_descendants
    from .run_cgroup import RunCgroup
    from .runner_host import redirect_output, same_interpreter_as, set_command_line
    from .runner_kernel import kernel_variables
    from .warm_kernel import MARKER_PLACEHOLDER, WarmKernel

    os.setsid()
    become_subreaper()
    set_command_line(
        [spec.executable, "-m", "jupyter_mlops.runner_host", WARM_RUNNER_ARG, spec.kernel_name]
    )
    pool_dir = root / str(os.getpid())
    pool_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(pool_dir)
    redirect_output(pool_dir / RUNNER_LOG)
    os.environ.clear()
    os.environ.update(dict(spec.env))
    same_interpreter_as(spec.executable)
    settings = Settings.from_env()
    os.environ.pop(ENV_RUN_ID, None)
    os.environ.update(kernel_variables(seed, MARKER_PLACEHOLDER, None))
    cgroup, cgroup_line = RunCgroup.enter(f"warm-{os.getpid()}", pool_dir, settings.run_cgroup)
    starter = KernelStarter(
        lambda: new_kernel_manager(spec.kernel_name),
        cwd=pool_dir,
        log_path=pool_dir / KERNEL_LOG,
        on_started=lambda pid: None,
        on_retry=lambda attempt, why: None,
        attempts=1,
    )
    launch_env = dict(os.environ)
    starter.launch()
    warm = WarmKernel(
        starter.manager, starter.log_offset, spec.kernel_name, seed, launch_env, str(pool_dir)
    )
    log.info("warm runner %d: kernel %s launched; %s", os.getpid(), warm.pid, cgroup_line)
    line = _wait_for_run(sock)
    request: dict[str, Any] = json.loads(line) if line.strip() else {}
    run_id = str(request.get("run_id") or "")
    named = bool(run_id) and set_command_line(
        [spec.executable, "-m", "jupyter_mlops.runner", run_id]
    )
    with contextlib.suppress(OSError):
        sock.sendall(b"1" if named else b"0")
    sock.close()
    if not named:
        warm.discard()
        kill_descendants()
        if cgroup is not None:
            cgroup.close()
        shutil.rmtree(pool_dir, ignore_errors=True)
        return 0
    return _become_runner(request, warm, cgroup, pool_dir, renderer)


def _wait_for_run(sock: socket.socket) -> bytes:
    """The host's request line, or b"" when the host let go, died, or this warm runner was
    told to stop (SIGTERM, SIGINT): then it cleans up like one the host let go, its kernel
    and cgroup included."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    try:
        return sock.makefile("rb").readline()
    except (SystemExit, OSError):
        return b""
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)


def _become_runner(
    request: dict[str, Any], warm: Any, cgroup: Any, pool_dir: Path, renderer: Any
) -> int:
    """The run's runner, with the warm kernel when its logs could be moved to the run."""
    from .kernel_start import KERNEL_LOG
    from .processes import RUNNER_LOG
    from .runner_host import redirect_output, run_hosted

    run_dir = Path(request["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    moved = all(_move(pool_dir / name, run_dir / name) for name in (RUNNER_LOG, KERNEL_LOG))
    if not moved:
        warm.discard()
        warm = None
        redirect_output(run_dir / RUNNER_LOG)
        log.info(
            "run %s: the warm runner's logs could not be moved here; cold kernel", run_dir.name
        )
    with contextlib.suppress(OSError):
        (pool_dir / "cgroup").unlink()  # the cgroup's record moves to the run directory
    with contextlib.suppress(OSError):
        pool_dir.rmdir()  # empty now; the kernel's working directory until it is adopted
    return run_hosted(request, renderer, warm=warm, warm_cgroup=cgroup)


def _move(source: Path, target: Path) -> bool:
    """``rename`` a log into the run directory; False where that cannot be done whole."""
    if target.exists():
        return False
    try:
        os.rename(source, target)
    except OSError:
        return False
    return True
