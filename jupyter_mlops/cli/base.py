"""What every ``jupyter mlops`` command shares: exit codes, the bad-input error, settings,
the store and the job service, and the ``-p NAME VALUE`` argument syntax."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NoReturn

from jupyter_core.application import JupyterApp
from traitlets import Bool, Unicode

from ..config import MLOps, Settings
from ..exports import __version__
from ..finite_json import dumps_json
from .parameters import split_parameters

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
STATUS_EXIT = {"succeeded": 0, "failed": 1, "cancelled": 3, "timed_out": 4, "lost": 5}

JSON_FLAG = {"json": ({"MLOpsBaseApp": {"json_output": True}}, "Print JSON.")}
"""``--json``, for the commands whose only flag it is."""


class CLIError(Exception):
    """Bad input: printed as one clear line, exit code 2."""


def fail(message: str) -> NoReturn:
    raise CLIError(message)


class CommandGroupApp(JupyterApp):
    """A command made of subcommands (``jupyter mlops db ...``): without one, it lists
    them (after its description when ``show_description``) and exits with 2."""

    show_description = False

    def start(self) -> None:
        if self.subapp is None:
            if self.show_description:
                print(self.description)
            self.print_subcommands()
            self.exit(EXIT_USAGE)
        self.subapp.start()


class MLOpsBaseApp(JupyterApp):
    """Shared plumbing: settings from config/env, the store and the job service."""

    version = __version__
    config_file_name = "jupyter_mlops_config"
    classes = [MLOps]
    aliases = {
        "db-url": "MLOps.db_url",
        "data-dir": "MLOps.data_dir",
        "backend": "MLOps.backend",
        "dask-scheduler": "MLOps.dask_scheduler_address",
        "max-concurrent-runs": "MLOps.max_concurrent_runs",
        "log-level": "Application.log_level",
        "user": "MLOpsBaseApp.user",
    }
    flags: dict[str, Any] = {}

    json_output = Bool(False, help="Print JSON instead of text.").tag(config=True)
    user = Unicode("", help="Who you are, for the audit trail (default: the OS user).").tag(
        config=True
    )

    takes_parameters: ClassVar[bool] = False
    """Whether the command takes papermill's ``-p``/``-r NAME VALUE`` and ``-y YAML`` (run,
    schedule add): they are taken out into :attr:`raw_parameters` (``-p``, converted) and
    :attr:`typed_parameters` (``-y``, ``-r``) before traitlets sees the command line."""
    raw_parameters: dict[str, str]
    typed_parameters: dict[str, Any]
    command_line: list[str]
    """The command's own arguments as given (what a runner host is handed to run it)."""

    _store: Any = None

    def parse_command_line(self, argv: list[str] | None = None) -> None:
        self.command_line = list(sys.argv[1:] if argv is None else argv)
        if self.takes_parameters:
            given, argv = split_parameters(argv)
            self.raw_parameters, self.typed_parameters = given.raw, given.typed
        super().parse_command_line(argv)

    @property
    def settings(self) -> Settings:
        return MLOps(parent=self).settings()

    @property
    def store(self) -> Any:
        if self._store is None:
            from ..store import RunStore

            self._store = RunStore.from_settings(self.settings)
        return self._store

    @property
    def actor(self) -> str:
        """Who runs this command: ``--user``, else the OS user."""
        from ..identity import os_user

        return self.user or os_user()

    def jobs(self) -> Any:
        from ..jobs import JobService

        return JobService(self.settings, self.store)

    def resolve_id(self, prefix: str) -> str:
        try:
            return self.store.resolve_run_id(prefix)
        except LookupError as err:
            fail(str(err.args[0] if err.args else err))

    def one_argument(self, what: str) -> str:
        if len(self.extra_args) != 1:
            fail(f"expected exactly one {what}, got {len(self.extra_args)}: {self.extra_args}")
        return self.extra_args[0]

    def run_id_argument(self) -> str:
        """The full id of the one run the command line names (by id or unique prefix)."""
        return self.resolve_id(self.one_argument("run id"))

    def print_result(self, data: Any, as_text: Callable[[Any], str]) -> int:
        """Print ``data`` as JSON with ``--json``, else as ``as_text`` writes it for people."""
        print(dumps_json(data, indent=2, default=str) if self.json_output else as_text(data))
        return EXIT_OK

    def start(self) -> None:  # subclasses implement run()
        try:
            code = self.run()
        except Exception as err:
            if not is_bad_input(err):
                raise
            print(f"error: {message_of(err)}", file=sys.stderr)
            self.exit(EXIT_USAGE)
        self.exit(code)

    def run(self) -> int:
        raise NotImplementedError


def is_bad_input(err: BaseException) -> bool:
    """Whether ``err`` is the user's to fix (a message and exit code 2), not a bug: bad
    values (``ValueError``: parameters, kernel, GPUs, seed, sizes), unknown ids, and a
    notebook that cannot be snapshotted."""
    if isinstance(err, (CLIError, ValueError, LookupError)):
        return True
    from ..snapshot.plumbing import SnapshotError  # only now: most commands never need git

    return isinstance(err, SnapshotError)


def message_of(err: BaseException) -> str:
    """What to print for bad input: its message, a snapshot's on one line (it may quote
    git's output over several)."""
    if isinstance(err, (CLIError, ValueError, LookupError)):
        return str(err)
    return " ".join(str(err).split()) or type(err).__name__


@contextlib.contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """``... | head``: the reader went away; stop writing without a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail
