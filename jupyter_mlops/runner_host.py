"""A warm runner host: a fork server with the runner's imports loaded.

``jupyter mlops worker`` (one per machine and data directory) imports the runner and
its execution stack (papermill, nbclient, jupyter_client, nbconvert) once, listens on a
unix socket in the data directory (:func:`socket_path`), and forks a runner for each run
it is asked to start, instead of the 0.5-0.6 s of a fresh interpreter importing them.
The local backend asks it first (:func:`start_hosted_runner`) and starts a fresh
``python -m jupyter_mlops.runner`` as before when no host answers, so everything works
without one.

A forked runner is made indistinguishable from a spawned one: it becomes the leader of a
new session in its run directory, with the submitter's whole environment (sent with the
request), its output in the run's ``runner.log``, and the command line
``python -m jupyter_mlops.runner RUN_ID`` written over the host's (the host is started
with room for it), which is what proves to the lost-run reconciler and to ``cancel`` that
the process is the run's runner. It imports nothing of the run's before the fork (no store
is opened, no thread runs in the host), so each runner starts from a fresh state; the
kernel is a new process either way. The host outlives the server and the CLI that use it;
a runner outlives the host (it is in its own session): killing the host loses nothing.

The host also keeps warm runners (:mod:`jupyter_mlops.warm_pool`): forked runners-to-be
with a kernel already launched, one for each kind of run it has seen (``c.MLOps.warm_kernels``).
A run of that kind is handed to one and adopts its kernel (:mod:`jupyter_mlops.warm_kernel`),
skipping the kernel start; any other run is forked as above. Besides a run to start, the
host answers a liveness question (with its warm runners, :func:`warm_runners`) and
:func:`offer_seed`.

Started by ``jupyter mlops worker``, or by the server extension with
``c.MLOps.runner_host = "auto"`` (:func:`start_runner_host`). One host per data directory:
it holds a lock file (:data:`LOCK_NAME`) for its life, so a second one started at the same
moment exits instead of taking the socket over.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("jupyter_mlops.runner_host")

SOCKET_NAME = "runner-host.sock"
LOCK_NAME = "runner-host.lock"
LOG_NAME = "runner-host.log"
"""What a host started by the server prints (where it listens, why it stopped)."""
CONNECT_TIMEOUT_S = 2.0
"""How long a host may take to accept a connection; one that does not is taken for gone."""
REPLY_TIMEOUT_S = 15.0
"""How long to wait for the pid of the runner a host forks once it has the request. A host
that has the request forks the runner, however long that takes on a loaded machine: giving
up sooner and starting a fresh runner would give the run two runners. A host that hangs
(SIGSTOP) costs each submit this long before it falls back to a fresh runner."""
SWEEP_EVERY_S = 5.0
"""How often an idle host looks for dead, expired or surplus warm runners."""
ARGV_ROOM = "--argv-room=" + "_" * 96
"""Padding on the host's command line: the space a forked runner writes its own into."""


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


def start_hosted_runner(
    data_dir: Path,
    run_id: str,
    run_dir: Path,
    env: dict[str, str],
    warm: dict[str, Any] | None = None,
) -> int | None:
    """Ask the runner host of ``data_dir`` to fork the runner of ``run_id``; its pid, or
    None when no host answers (start one the ordinary way then). ``warm`` (the run's
    ``kernel_name`` and ``seed``) lets the host hand the run to a warm runner of that kind
    (:mod:`jupyter_mlops.warm_pool`)."""
    request = {"run_id": run_id, "run_dir": str(run_dir), "env": env, "executable": sys.executable}
    if warm is not None:
        request.update(warm, warm=True)
    reply = _ask(data_dir, request, REPLY_TIMEOUT_S)
    try:
        return int(reply["pid"]) if reply is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def offer_seed(data_dir: Path, kernel_name: str, env: dict[str, str]) -> int | None:
    """A seed for a run that draws its own: that of a warm runner the host keeps for drawn
    seeds of this kind of run, reserved for it; None (draw it yourself) without one."""
    offer = {"kernel_name": kernel_name, "env": env, "executable": sys.executable}
    reply = _ask(data_dir, {"offer": offer}, CONNECT_TIMEOUT_S)
    seed = reply.get("seed") if reply is not None else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def warm_runners(data_dir: Path) -> list[dict[str, Any]] | None:
    """The warm runners the host of ``data_dir`` keeps (None: no host answers)."""
    reply = _ask(data_dir, {"run_id": ""}, CONNECT_TIMEOUT_S)
    return list(reply.get("warm") or []) if reply is not None else None


def runner_host_up(data_dir: Path) -> bool:
    """Does a runner host answer at ``data_dir``'s socket?"""
    return warm_runners(data_dir) is not None


def _ask(data_dir: Path, request: dict[str, Any], reply_timeout: float) -> dict[str, Any] | None:
    """The host's one-line JSON reply to ``request``, or None when no host answers."""
    path = socket_path(data_dir)
    if not path.exists() or len(str(path)) > 100:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CONNECT_TIMEOUT_S)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            sock.settimeout(reply_timeout)
            reply = json.loads(sock.makefile("rb").readline())
    except (OSError, ValueError):
        log.info("no runner host answered at %s", path)
        return None
    return reply if isinstance(reply, dict) else None


def host_argv() -> list[str]:
    """The runner host's command line (the padding is the room its forks write theirs in)."""
    return [sys.executable, "-m", "jupyter_mlops.runner_host", ARGV_ROOM]


def start_runner_host(data_dir: Path, env: dict[str, str]) -> int | None:
    """Start a runner host for ``data_dir`` unless one answers there; its pid, or None.

    Detached (its own session, output in :data:`LOG_NAME`), so it outlives whoever started
    it; ``env`` carries the settings (:meth:`~jupyter_mlops.config.Settings.runner_env`).
    Blocks for a connect and a fork-exec: call it off an event loop."""
    if runner_host_up(data_dir):
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOG_NAME, "ab") as log_file:
        proc = subprocess.Popen(
            host_argv(),
            env=env,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log.info("started runner host %d for %s", proc.pid, data_dir)
    return proc.pid


PRELOADED = (
    "jupyter_client.manager",
    "nbclient",
    "papermill",
    "nbformat",
    "sqlite3",
    "jupyter_mlops.jobs",
    "jupyter_mlops.runner",
    "jupyter_mlops.papermill_engine",
    "jupyter_mlops.cli.run",  # a handed-off ``jupyter mlops run`` (:mod:`.cli.handoff`)
    "jupyter_mlops.cli.handoff",
    # what the runner imports on its way, lazily (a plain CLI never needs them)
    "jupyter_mlops.backends.queue",
    "jupyter_mlops.code_archive",
    "jupyter_mlops.datasets.recording",
    "jupyter_mlops.environment",
    "jupyter_mlops.gpus",
    "jupyter_mlops.html_artifact",
    "jupyter_mlops.kernels",
    "jupyter_mlops.masking",
    "jupyter_mlops.notebook.inspection",
    "jupyter_mlops.runner_cells",
    "jupyter_mlops.runtime_facts",
    "jupyter_mlops.snapshot.plumbing",
    "jupyter_mlops.snapshot.reading",
    "jupyter_mlops.system_metrics",
    "jupyter_mlops.verify.service",
    "jupyter_mlops.warm_kernel",
)
"""Imported by the host once, so that no forked runner imports them (about 0.2 s each)."""
PRELOADED_IF_INSTALLED = ("pynvml",)


def _preload() -> Any:
    """Import what every runner and a handed-off ``jupyter mlops run`` import, and do once
    the in-memory preparations each would do on first use (ORM mappers, the notebook
    schema's validators, the HTML templates and lexers). Nothing is opened and no thread
    started."""
    from ._imports import skip_slow_jsonschema_formats

    skip_slow_jsonschema_formats()
    for name in PRELOADED:
        importlib.import_module(name)
    for name in PRELOADED_IF_INSTALLED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    import nbformat

    from .rendering import NotebookHtmlRenderer
    from .store.models import configure_orm

    configure_orm()
    for minor in (4, 5):  # the notebook schema's compiled validators (nbformat caches them)
        empty = nbformat.v4.new_notebook(nbformat_minor=minor)
        nbformat.reads(nbformat.writes(empty), as_version=4)
    renderer = NotebookHtmlRenderer()
    renderer.warm_up()
    return renderer


def set_command_line(args: list[str]) -> bool:
    """Write ``args`` over this process's command line (``/proc/self/cmdline``); False when
    they do not fit in the room the host was started with."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    new = b"\0".join(a.encode() for a in args) + b"\0"
    if len(new) > end - start:
        return False
    ctypes.memmove(start, new.ljust(end - start, b"\0"), end - start)
    return True


def same_interpreter_as(executable: str | None) -> None:
    """Take the submitter's name for this interpreter (``python`` or ``python3.11``, a
    venv's link): what the runner records (and resolves the kernel with) must not depend on
    who started it. Only the same binary's name is taken."""
    if not executable:
        return
    with contextlib.suppress(OSError):
        if os.path.samefile(executable, sys.executable):
            sys.executable = executable


def _become_runner(request: dict[str, Any], renderer: Any, ready: int) -> int:
    """In the forked child: the run's runner, as ``processes.start_runner`` would start it.
    ``ready`` is told once the command line names the run (before that, the process would
    not be recognized as the run's runner)."""
    from .processes import RUNNER_LOG

    named = set_command_line([sys.executable, "-m", "jupyter_mlops.runner", request["run_id"]])
    os.write(ready, b"1" if named else b"0")
    os.close(ready)
    if not named:
        return 1
    os.setsid()
    run_dir = Path(request["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    redirect_output(run_dir / RUNNER_LOG)
    return run_hosted(request, renderer)


def redirect_output(log_path: Path) -> None:
    """stdin from /dev/null, stdout and stderr appended to ``log_path``."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null)


def become_submitter(cwd: str, env: dict[str, str], executable: str | None) -> None:
    """In a process forked from the host: the submitter's working directory, whole
    environment and interpreter name, and none of the host's log handlers."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    same_interpreter_as(executable)
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)


def run_hosted(
    request: dict[str, Any], renderer: Any, warm: Any = None, warm_cgroup: Any = None
) -> int:
    """Run the request's run in this (forked) process, in its run directory and with the
    submitter's environment; from a warm runner, with its kernel and cgroup."""
    become_submitter(request["run_dir"], request["env"], request.get("executable"))
    from . import runner

    runner.WARM_RENDERER = renderer
    return runner.main([request["run_id"]], warm=warm, warm_cgroup=warm_cgroup)


def serve(data_dir: Path, warm_kernels: int = 0) -> None:
    """Listen for runs to fork until killed (``jupyter mlops worker``), keeping
    ``warm_kernels`` warm runners of each kind of run seen (:mod:`.warm_pool`)."""
    from .warm_pool import POOL_DIR, WarmPool

    path = socket_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir / LOCK_NAME, "a")  # noqa: SIM115 (held, open, for the host's life)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"a runner host already serves {data_dir}") from None
    if runner_host_up(data_dir):  # one that predates the lock file
        raise SystemExit(f"a runner host already listens at {path}")
    renderer = _preload()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    server.settimeout(SWEEP_EVERY_S)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked runners are reaped by the kernel

    def close_in_child() -> None:
        """In a forked child: what is the host's, not its runners' or commands'."""
        server.close()
        lock.close()
        pool.forget_in_child()  # a warm runner must see its socket close with the host

    pool = WarmPool(data_dir / POOL_DIR, warm_kernels, close_in_child, renderer)
    print(f"runner host {os.getpid()} listening at {path}", flush=True)
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            pool.sweep()
            continue
        with conn:
            conn.settimeout(CONNECT_TIMEOUT_S)  # a client that stalls must not hold the host
            request, fds = read_request(conn)
            try:
                if request is not None:
                    _answer(request, fds, conn, renderer, close_in_child, pool)
            except OSError as err:  # the client went before its answer: serve the next one
                log.warning("a request went unanswered: %s", err)
        pool.fill_pending()  # after the reply and with its connection closed


def _answer(
    request: dict[str, Any],
    fds: list[int],
    conn: socket.socket,
    renderer: Any,
    close_in_child: Callable[[], None],
    pool: Any,
) -> None:
    """Do what the request asks: run a CLI command, offer a seed, say what is warm, or
    start a run."""
    if "cli" in request:  # a ``jupyter mlops`` command to run for the CLI
        from .cli.handoff import start_command

        start_command(request["cli"], fds, conn, close_in_child)
    elif "offer" in request:
        offer = request["offer"] if isinstance(request["offer"], dict) else {}
        conn.sendall(json.dumps({"seed": pool.offer(offer)}).encode() + b"\n")
    elif not request.get("run_id"):  # a liveness question, or what is warm
        conn.sendall(json.dumps({"pid": 0, "warm": pool.describe()}).encode() + b"\n")
    else:
        _serve_run(request, renderer, close_in_child, conn, pool)


def read_request(conn: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """One request (a JSON line) and the file descriptors that came with it (a handed-off
    command's standard streams); (None, []) for anything else."""
    chunks, fds = [], []
    try:
        while not chunks or not chunks[-1].endswith(b"\n"):
            data, received, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
            fds += received
            if not data:
                break
            chunks.append(data)
        request = json.loads(b"".join(chunks))
    except (OSError, ValueError):
        request = None
    if not isinstance(request, dict) or ("cli" not in request and fds):
        for fd in fds:
            os.close(fd)
        return None, []
    return request, fds


def _serve_run(
    request: dict[str, Any],
    renderer: Any,
    close_in_child: Callable[[], None],
    conn: socket.socket,
    pool: Any,
) -> None:
    """Start the request's run: on a warm runner of its kind, else a forked cold runner;
    reply with its pid."""
    pid, taken = pool.take(request)
    if not pid:

        def in_child() -> None:
            close_in_child()
            conn.close()  # the submitter's, not the runner's

        pid = fork_runner(request, renderer, in_child)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    pool.after(request, taken)


def fork_runner(request: dict[str, Any], renderer: Any, close_in_child: Callable[[], None]) -> int:
    """Fork a (cold) runner for the request's run; its pid once it is named the run's
    runner, else 0."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            close_in_child()
            os.close(ready_read)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = _become_runner(request, renderer, ready_write)
        finally:
            from .processes import exit_without_finalizing

            exit_without_finalizing(code)
    os.close(ready_write)
    named = os.read(ready_read, 1) == b"1"
    os.close(ready_read)
    if not named:  # it exits at once: reaped here (or by the kernel, where SIGCHLD is ignored)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return pid if named else 0


def main(argv: list[str] | None = None) -> int:
    from .config import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    serve(settings.data_dir, settings.warm_kernels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
