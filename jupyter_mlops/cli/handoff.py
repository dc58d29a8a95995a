"""``jupyter mlops run`` (and ``reproduce``, ``schedule run-now``: the commands that start
a run, :class:`~jupyter_mlops.cli.follow.SubmittingApp`) handed to the runner host: the
CLI's work done in a warm process.

A fresh ``jupyter mlops run`` spends most of a second importing the job service, the
store's ORM and nbformat before the run even exists. With a runner host up for the data
directory (``jupyter mlops worker``, :mod:`jupyter_mlops.runner_host`), which has all of
that imported, the CLI instead sends its command line, working directory and whole
environment to the host, with its stdin, stdout and stderr (``SCM_RIGHTS``). The host
forks a child that becomes that command: same directory, same environment, same
interpreter name, writing straight to the user's terminal or pipe; it parses the command
line and reads the config files itself, so the command behaves exactly as it would have
in the CLI's own process (the run it submits and its records are the same: the runner
gets the same environment either way). The CLI only waits for the child's exit code and
exits with it.

The CLI stays the process the user (a shell, cron, CI) sees: ``SIGINT``, ``SIGTERM`` and
``SIGHUP`` it receives are passed on to the child, which handles them as the CLI would
have (``--wait`` interrupted: a queued run gets a runner to wait instead). When the CLI
dies outright, the child sees its connection close and is interrupted the same way.

Without a host, or when the host runs another interpreter or another copy of
jupyter-mlops than the CLI's, the CLI does the work itself, as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, NoReturn

log = logging.getLogger("jupyter_mlops.cli")

IN_HOST = False
"""True in a runner host's child running a handed-off command: it must not hand it off
again, and it reports its exit code to the CLI instead of leaving with ``os._exit``."""
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_stopped_by: int = signal.SIGINT
"""The signal that interrupted the handed-off command: its exit code is 128 + it, what a
shell shows for a process killed by that signal."""
STDIO = (0, 1, 2)
GO = b"g"
"""Sent by the CLI once it has the child's pid: a child whose CLI gave up waiting for it
(a slow host) sees its connection close instead, and ends without running the command."""


def package_identity() -> dict[str, str]:
    """What must match for the host to run a command for this CLI: the interpreter, and
    the jupyter-mlops installation and version (a host of another checkout or release
    would run other code)."""
    from ..exports import __version__

    return {
        "executable": sys.executable,
        "package": str(Path(__file__).resolve().parents[1]),
        "version": __version__,
    }


def refusal(request: Any, fds: list[int]) -> str | None:
    """Why this host cannot run the command ``request`` asks for (None: it can): one
    malformed, or from a CLI of another interpreter or jupyter-mlops (its identity)."""
    if len(fds) != len(STDIO):
        return "the command's standard streams did not come with it"
    if not (
        isinstance(request, dict)
        and isinstance(request.get("argv"), list)
        and all(isinstance(a, str) for a in request["argv"])
        and isinstance(request.get("cwd"), str)
        and isinstance(request.get("env"), dict)
        and all(isinstance(v, str) for v in request["env"].values())
    ):
        return "malformed command request"
    return _other_installation(request)


def _other_installation(identity: dict[str, Any]) -> str | None:
    mine = package_identity()
    try:
        same_python = os.path.samefile(str(identity.get("executable")), sys.executable)
    except (OSError, TypeError):
        same_python = False
    if not same_python:
        return f"the runner host runs {sys.executable}, not {identity.get('executable')}"
    for key in ("package", "version"):
        if identity.get(key) != mine[key]:
            return f"the runner host runs jupyter-mlops {key} {mine[key]}, not {identity.get(key)}"
    return None


# -- in the CLI -----------------------------------------------------------------------


def hand_off(data_dir: Path, argv: list[str]) -> int | None:
    """Have the runner host of ``data_dir`` run ``jupyter mlops ARGV``; its exit code, or
    None when no host took it (run it here then)."""
    from ..runner_host import CONNECT_TIMEOUT_S, REPLY_TIMEOUT_S, socket_path

    path = socket_path(data_dir)
    if IN_HOST or not path.exists() or len(str(path)) > 100:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        command = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask}
        sock.settimeout(CONNECT_TIMEOUT_S)
        sock.connect(str(path))
        request = json.dumps({"cli": {**command, **package_identity()}}).encode() + b"\n"
        sent = socket.send_fds(sock, [request], list(STDIO))
        sock.sendall(request[sent:])  # a big environment may not go in one message
        sock.settimeout(REPLY_TIMEOUT_S)  # as for a runner: a hung host is given up on
        replies = sock.makefile("rb")
        reply = _json_line(replies)
        pid = reply.get("pid") if reply else None
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            log.debug("the runner host did not take the command: %s", reply)
            sock.close()
            return None
        sock.settimeout(None)
        sock.sendall(GO)  # only now does the child start: given up on, it never runs
    except OSError as err:
        log.debug("no runner host took the command: %s", err)
        sock.close()
        return None
    with sock, _signals_passed_to(pid):
        ended = _json_line(replies)
    code = ended.get("exit") if ended else None
    if not isinstance(code, int):
        print(f"error: the runner host's process {pid} running this command died", file=sys.stderr)
        return 1
    return code


@contextlib.contextmanager
def _signals_passed_to(pid: int) -> Any:
    """While the child runs the command, what is sent to the CLI goes to the child."""

    def pass_on(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in FORWARDED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _json_line(stream: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(stream.readline())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# -- in the runner host ---------------------------------------------------------------


def start_command(
    request: dict[str, Any], fds: list[int], conn: socket.socket, close_in_child: Any
) -> None:
    """Fork a child that runs the handed-off command, and tell the CLI its pid (or why it
    must run the command itself). Returns at once: the host does not wait for commands."""
    why = refusal(request, fds)
    pid = 0
    try:
        if why is None:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    close_in_child()
                    code = _run_command(request, fds, conn)
                finally:
                    os._exit(code)
            log.info("`jupyter mlops %s` handed to pid %d", " ".join(request["argv"]), pid)
    finally:
        for fd in fds:  # the child's now (or nobody's, if the fork failed)
            os.close(fd)
    reply = {"pid": pid} if why is None else {"refused": why}
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(reply).encode() + b"\n")


def _run_command(request: dict[str, Any], fds: list[int], conn: socket.socket) -> int:
    """In the forked child: become the CLI process (streams, directory, environment,
    command line), run the command, report its exit code."""
    global IN_HOST
    IN_HOST = True
    conn.settimeout(None)
    try:
        go = conn.recv(len(GO))
    except OSError:
        go = b""
    if go != GO:  # the CLI gave up on the host and runs the command itself
        return 0
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the host ignores it; commands wait
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, _interrupt)
    os.setsid()  # not in the host's group: a signal to that must not stop the command
    _take_streams(fds)
    threading.Thread(target=_interrupt_when_closed, args=(conn,), daemon=True).start()
    try:
        _become_the_cli(request)
        code = _exit_code_of(request["argv"])
    except KeyboardInterrupt:  # before the command started
        code = 128 + _stopped_by
    except OSError as err:  # its working directory went meanwhile
        print(f"error: {err}", file=sys.stderr)
        code = 1
    for signum in FORWARDED_SIGNALS:  # done: a signal now must not cut the report short
        signal.signal(signum, signal.SIG_IGN)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
    return code


def _become_the_cli(request: dict[str, Any]) -> None:
    """The CLI's working directory, umask, environment, interpreter name and command line;
    none of the host's logging."""
    from ..runner_host import become_submitter

    become_submitter(request["cwd"], request["env"], request.get("executable"))
    if isinstance(request.get("umask"), int):
        os.umask(request["umask"])
    logging.getLogger().setLevel(logging.WARNING)  # a new process's, not the host's INFO
    sys.argv = [sys.argv[0], *request["argv"]]


def _exit_code_of(argv: list[str]) -> int:
    """Run ``jupyter mlops ARGV`` here; its exit code, as Python would have exited."""
    from . import MLOpsApp

    try:
        MLOpsApp.launch_instance(argv)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 128 + _stopped_by
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _take_streams(fds: list[int]) -> None:
    """The CLI's stdin, stdout and stderr become this process's, buffered as Python
    buffers them for a new process (line by line on a terminal)."""
    for target, fd in zip(STDIO, fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own, for its life)
    sys.stdout = open(1, "w", buffering=1 if os.isatty(1) else -1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, errors="backslashreplace", closefd=False)  # noqa: SIM115


def _interrupt(signum: int, _frame: Any) -> NoReturn:
    """``SIGINT``, ``SIGTERM``, ``SIGHUP``: stop the command as Ctrl-C stops the CLI."""
    global _stopped_by
    _stopped_by = signum
    raise KeyboardInterrupt


def _interrupt_when_closed(conn: socket.socket) -> None:
    """The CLI is gone (killed, its terminal closed): stop as it would have stopped."""
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass
    os.kill(os.getpid(), signal.SIGINT)
