"""``jupyter mlops ...``: the headless face of jupyter-mlops, for cron, CI and servers.

A traitlets application like the rest of Jupyter, so ``c.MLOps.db_url`` in
``jupyter_mlops_config.py`` and ``--MLOps.db_url=...`` work as users expect.

Exit codes scripts can rely on: 0 the run succeeded (or the command did its job),
1 the run failed, 2 bad input, 3 cancelled, 4 timed out, 5 lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Enum, Float, Int, List, Unicode

from . import __version__
from .config import MLOps, Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
STATUS_EXIT = {"succeeded": 0, "failed": 1, "cancelled": 3, "timed_out": 4, "lost": 5}


class CLIError(Exception):
    """Bad input: printed as one clear line, exit code 2."""


def _fail(message: str) -> None:
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
    }
    flags: dict[str, Any] = {}

    json_output = Bool(False, help="Print JSON instead of text.").tag(config=True)

    _store: Any = None

    @property
    def settings(self) -> Settings:
        return MLOps(parent=self).settings()

    @property
    def store(self) -> Any:
        if self._store is None:
            from .store import RunStore

            self._store = RunStore.from_settings(self.settings)
        return self._store

    def jobs(self) -> Any:
        from .jobs import JobService

        return JobService(self.settings, self.store)

    def resolve_id(self, prefix: str) -> str:
        try:
            return self.store.resolve_run_id(prefix)
        except LookupError as err:
            _fail(str(err.args[0] if err.args else err))
            raise

    def one_argument(self, what: str) -> str:
        if len(self.extra_args) != 1:
            _fail(f"expected exactly one {what}, got {len(self.extra_args)}: {self.extra_args}")
        return self.extra_args[0]

    def start(self) -> None:  # subclasses implement run()
        try:
            code = self.run()
        except CLIError as err:
            print(f"error: {err}", file=sys.stderr)
            self.exit(EXIT_USAGE)
        except (ValueError, LookupError) as err:
            print(f"error: {err}", file=sys.stderr)
            self.exit(EXIT_USAGE)
        self.exit(code)

    def run(self) -> int:
        raise NotImplementedError


FINISHING_POLL_S = 0.05

_JSON_FLAG = {"json": ({"MLOpsBaseApp": {"json_output": True}}, "Print JSON.")}


def _wait_for_run(app: MLOpsBaseApp, run_id: str, handle: Any, progress: bool) -> int:
    """Follow a run to its terminal status: a progress bar on a terminal, one line per
    status change otherwise (so logs of cron and CI stay readable)."""
    from .store import RunStatus

    store = app.store
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=None, unit="cell", desc=run_id, file=sys.stderr, leave=True)
    service = app.jobs()
    delay = 0.05
    last_status, last_cells = "", -1
    try:
        while True:
            exited = None
            if handle is not None:
                try:
                    exited = handle.wait(timeout=delay)
                except Exception:  # subprocess.TimeoutExpired: still running
                    exited = None
            else:
                time.sleep(delay)
            run = store.require_run(run_id)
            # Back off to 2 reads a second while cells run; once the last cell is done
            # only artifacts remain, so look every 50 ms to return as soon as it ends.
            last_cell_done = bool(run.cells_total) and run.cells_done >= (run.cells_total or 0)
            delay = FINISHING_POLL_S if last_cell_done else min(delay * 1.5, 0.5)
            if bar is not None and (run.status, run.cells_done) != (last_status, last_cells):
                bar.total = run.cells_total
                bar.n = run.cells_done
                bar.set_postfix_str(run.status)
            elif bar is None and progress and run.status != last_status:
                print(f"run {run_id}: {run.status}", file=sys.stderr)
            last_status, last_cells = run.status, run.cells_done
            if RunStatus(run.status).is_terminal:
                break
            if exited is not None or handle is None:
                service.reconcile()  # runner gone without a final status: lost
    finally:
        if bar is not None:
            bar.close()
    run = store.require_run(run_id)
    line = f"run {run.id} {run.status}"
    if run.status_reason:
        line += f": {run.status_reason}"
    print(line, file=sys.stderr)
    if run.error_traceback and run.status == "failed":
        print(run.error_traceback, file=sys.stderr)
    return STATUS_EXIT.get(run.status, EXIT_FAILED)


class SubmittingApp(MLOpsBaseApp):
    """Commands that start a run (run, reproduce, schedule run-now): they print the new
    run's id and, with ``--wait``, follow it and exit with its status."""

    flags = {
        **_JSON_FLAG,
        "wait": (
            {"SubmittingApp": {"wait": True}},
            "Wait for the run to end; exit with its status.",
        ),
        "no-progress": ({"SubmittingApp": {"progress": False}}, "No progress bar with --wait."),
    }
    wait = Bool(False).tag(config=True)
    progress = Bool(True).tag(config=True)

    def follow(self, submission: Any) -> int:
        """The exit code: OK once submitted, or the run's own status with ``--wait``."""
        if not self.wait:
            return EXIT_OK
        return _wait_for_run(self, submission.run.id, submission.handle, self.progress)


class RunApp(SubmittingApp):
    name = "jupyter-mlops-run"
    description = (
        "Run a notebook as a job: snapshot it into git, execute it with papermill in a "
        "detached process, and record everything in the run store. Parameters: "
        "-p NAME VALUE (repeatable; converted to the type declared in the notebook's "
        "'parameters' cell) or -f params.yaml. Example: jupyter mlops run train.ipynb "
        "-p lr 0.01 -p epochs 3 --wait"
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "kernel": "RunApp.kernel",
        "k": "RunApp.kernel",
        "gpus": "RunApp.gpus",
        "timeout": "RunApp.timeout",
        "tag": "RunApp.tags",
        "seed": "RunApp.seed",
        "f": "RunApp.parameters_file",
        "parameters-file": "RunApp.parameters_file",
        "m": "RunApp.commit_message",
    }
    flags = {
        **SubmittingApp.flags,
        "commit": (
            {"RunApp": {"commit": True}},
            "Also commit the notebook to the current branch (explicit; off by default).",
        ),
    }

    kernel = Unicode("", help="Kernel name (default: the notebook's kernel).").tag(config=True)
    gpus = Int(0, help="Number of GPUs (sets CUDA_VISIBLE_DEVICES).").tag(config=True)
    timeout = Float(0.0, help="Seconds before the run is stopped as timed out.").tag(config=True)
    tags = List(Unicode(), help="Tags for the run (repeatable).").tag(config=True)
    seed = Int(-1, help="Seed (default: drawn and recorded).").tag(config=True)
    parameters_file = Unicode("", help="YAML or JSON file of parameters.").tag(config=True)
    commit = Bool(False).tag(config=True)
    commit_message = Unicode("", help="Message for --commit.").tag(config=True)

    raw_parameters: dict[str, str]

    def parse_command_line(self, argv: list[str] | None = None) -> None:
        """Take ``-p NAME VALUE`` pairs (papermill's syntax) before traitlets sees argv."""
        argv = list(sys.argv[1:] if argv is None else argv)
        self.raw_parameters = {}
        rest: list[str] = []
        i = 0
        while i < len(argv):
            if argv[i] in ("-p", "--parameter"):
                if i + 2 >= len(argv):
                    _fail_usage(f"{argv[i]} needs a name and a value: -p NAME VALUE")
                self.raw_parameters[argv[i + 1]] = argv[i + 2]
                i += 3
            else:
                rest.append(argv[i])
                i += 1
        super().parse_command_line(rest)

    def run(self) -> int:
        from .jobs import RunSpec

        notebook = self.one_argument("notebook path")
        typed: dict[str, Any] = {}
        if self.parameters_file:
            typed = _load_parameters_file(Path(self.parameters_file))
        spec = RunSpec(
            notebook=notebook,
            parameters=typed,
            raw_parameters=self.raw_parameters,
            kernel=self.kernel or None,
            gpus=self.gpus,
            timeout=self.timeout or None,
            tags=list(self.tags),
            seed=None if self.seed < 0 else self.seed,
            commit=self.commit,
            commit_message=self.commit_message or None,
            source="cli",
        )
        submission = self.jobs().submit(spec)
        run = submission.run
        if self.json_output and not self.wait:
            from .serialize import run_summary

            print(json.dumps(run_summary(run), indent=2))
        else:
            print(run.id)
        if not self.wait and run.status == "failed":  # the runner could not even start
            return EXIT_FAILED
        return self.follow(submission)


def _fail_usage(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def _load_parameters_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"parameters file {path} does not exist")
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        _fail(f"parameters file {path} is not valid YAML/JSON: {err}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        _fail(f"parameters file {path} must hold a mapping of name: value")
    return data


class RunsApp(MLOpsBaseApp):
    name = "jupyter-mlops-runs"
    description = "List runs, newest first."
    aliases = {
        **MLOpsBaseApp.aliases,
        "status": "RunsApp.status",
        "notebook": "RunsApp.notebook",
        "tag": "RunsApp.tag",
        "limit": "RunsApp.limit",
    }
    flags = dict(_JSON_FLAG)

    status = List(Unicode(), help="Only these statuses (repeatable).").tag(config=True)
    notebook = Unicode("", help="Only runs of this notebook.").tag(config=True)
    tag = Unicode("", help="Only runs with this tag.").tag(config=True)
    limit = Int(50).tag(config=True)

    def run(self) -> int:
        from .serialize import run_summary
        from .store import RunStatus

        valid = {s.value for s in RunStatus}
        bad = [s for s in self.status if s not in valid]
        if bad:
            _fail(f"unknown status {bad}; choose from {sorted(valid)}")
        self.jobs().reconcile()
        notebook = self.notebook
        if notebook and Path(notebook).exists():
            notebook = str(Path(notebook).resolve())
        page = self.store.list_runs(
            status=self.status or None,
            notebook=notebook or None,
            tag=self.tag or None,
            limit=self.limit,
        )
        rows = [run_summary(r) for r in page.runs]  # list_runs set the queue positions
        if self.json_output:
            print(json.dumps(rows, indent=2))
            return EXIT_OK
        print(_table(rows))
        return EXIT_OK


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ["ID", "STATUS", "NOTEBOOK", "CREATED", "DURATION", "CELLS", "TAGS", "PARAMETERS"]
    lines = []
    for r in rows:
        params = ", ".join(f"{k}={json.dumps(v)}" for k, v in r["parameters"].items())
        status = r["status"]
        if r.get("queue_position"):
            status += f" #{r['queue_position']}"
        lines.append(
            [
                r["id"],
                status,
                r["notebook"],
                (r["created_at"] or "")[:19].replace("T", " "),
                f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "",
                f"{r['cells_done']}/{r['cells_total'] or '?'}",
                ",".join(r["tags"]),
                params[:60],
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *lines, strict=False)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out) if lines else out[0] + "\n(no runs)"


class ShowApp(MLOpsBaseApp):
    name = "jupyter-mlops-show"
    description = "Show everything about one run (id or unique prefix)."
    flags = dict(_JSON_FLAG)

    def run(self) -> int:
        from .serialize import run_detail

        self.jobs().reconcile()
        run_id = self.resolve_id(self.one_argument("run id"))
        store = self.store
        run = store.require_run(run_id)
        store.annotate_queue_positions([run])
        detail = run_detail(
            run,
            events=store.events(run_id),
            artifacts=store.artifacts(run_id),
            environment=store.environment(run_id),
            metrics=store.latest_metrics(run_id),
        )
        if self.json_output:
            print(json.dumps(detail, indent=2, default=str))
        else:
            print(_format_detail(detail))
        return EXIT_OK


def _format_detail(d: dict[str, Any]) -> str:
    snap = d["snapshot"]
    out = [
        f"run        {d['id']}",
        f"status     {d['status']}"
        + (f" (position {d['queue_position']} in the queue)" if d.get("queue_position") else "")
        + (f" ({d['status_reason']})" if d["status_reason"] else ""),
        f"notebook   {d['notebook']}",
        f"kernel     {d['kernel']}",
        f"seed       {d['seed']}",
        f"gpus       {d['gpus']} (CUDA_VISIBLE_DEVICES={d['cuda_visible_devices'] or ''!s})",
        f"runner     {d['runner']['backend']} on {d['runner']['host'] or '-'}"
        f" pid {d['runner']['pid'] or '-'}",
        f"timeout    {d['timeout_s'] or 'none'}",
        f"created    {d['created_at']}",
        f"started    {d['started_at'] or '-'}",
        f"finished   {d['finished_at'] or '-'}",
        f"duration   {d['duration_s']:.2f}s" if d["duration_s"] is not None else "duration   -",
        f"progress   {d['cells_done']}/{d['cells_total'] or '?'} cells",
        f"commit     {snap['commit']} ({snap['ref']})",
        f"branch     {snap['branch'] or '-'}  base {snap['base_commit'] or '-'}"
        f"  dirty {snap['dirty']}  private repo {snap['private_repo']}",
        f"tags       {', '.join(d['tags']) or '-'}",
    ]
    if d["reproduced_from"]:
        out.append(f"reproduces {d['reproduced_from']}")
    out.append("parameters")
    for name, value in d["parameters"].items():
        out.append(f"  {name} = {json.dumps(value)}  ({d['parameter_types'].get(name)})")
    if d["error"]:
        err = d["error"]
        out.append(f"error      cell {err['cell_index']}: {err['ename']}: {err['evalue']}")
        if err["traceback"]:
            out += ["  " + line for line in err["traceback"].splitlines()[-15:]]
    out.append("status history")
    for e in d["status_history"]:
        out.append(f"  {e['at']}  {e['status']}" + (f"  {e['message']}" if e["message"] else ""))
    if d["cells"]:
        out.append("cell timings")
        for e in d["cells"]:
            out.append(f"  cell {e['cell_index']:>4}  {e['duration_s']:.3f}s  {e['status']}")
    if d["metrics"]:
        out.append("metrics")
        for key, value in sorted(d["metrics"].items()):
            out.append(f"  {key} = {value}")
    out.append("artifacts")
    for a in d["artifacts"]:
        out.append(f"  {a['name']:<20} {a['kind']:<9} {a['size']:>10} B  sha256 {a['sha256'][:16]}")
    env = d["environment"] or {}
    out.append("environment")
    out += _format_environment(env)
    return "\n".join(out)


def _format_environment(env: dict[str, Any]) -> list[str]:
    if not env:
        return ["  (not captured yet)"]
    if "error" in env and len(env) == 1:
        return [f"  error: {env['error']}"]
    lines = []
    python = env.get("python") or {}
    if python:
        lines.append(f"  python     {python.get('version')} ({python.get('executable')})")
    platform = env.get("platform") or {}
    if platform:
        lines.append(f"  platform   {platform.get('platform') or platform}")
    if env.get("hostname"):
        lines.append(f"  host       {env['hostname']}")
    kernel = env.get("kernel") or {}
    if kernel:
        lines.append(f"  kernel     {kernel.get('name')} ({kernel.get('python')})")
    torch = env.get("torch")
    if torch:
        lines.append(f"  torch      {json.dumps(torch)[:200]}")
    gpus = env.get("gpus")
    if gpus is not None:
        lines.append(f"  gpus       {json.dumps(gpus)[:200]}")
    kernel_cuda = env.get("kernel_cuda")
    if kernel_cuda:
        lines.append(f"  used CUDA  {json.dumps(kernel_cuda)[:200]}")
    packages = env.get("packages") or {}
    if packages:
        lines.append(f"  packages   {len(packages)} installed (--json lists them)")
    return lines


class CancelApp(MLOpsBaseApp):
    name = "jupyter-mlops-cancel"
    description = "Cancel a queued or running run; its kernel and children are killed."
    flags = {
        **_JSON_FLAG,
        "wait": ({"CancelApp": {"wait": True}}, "Wait until the run has ended."),
    }
    wait = Bool(False).tag(config=True)

    def run(self) -> int:
        run_id = self.resolve_id(self.one_argument("run id"))
        run = self.jobs().cancel(run_id)
        if self.wait:
            _wait_for_run(self, run_id, None, progress=False)
            run = self.store.require_run(run_id)
        print(f"run {run_id}: {run.status}" + (" (cancel requested)" if not self.wait else ""))
        return EXIT_OK


class ReproduceApp(SubmittingApp):
    name = "jupyter-mlops-reproduce"
    description = "Run again: same commit, parameters, seed and kernel; a new linked run."

    def run(self) -> int:
        run_id = self.resolve_id(self.one_argument("run id"))
        submission = self.jobs().reproduce(run_id)
        print(submission.run.id)
        return self.follow(submission)


class DeleteApp(MLOpsBaseApp):
    name = "jupyter-mlops-delete"
    description = "Delete a finished run (row, snapshot ref and run directory)."

    def run(self) -> int:
        run_id = self.resolve_id(self.one_argument("run id"))
        self.jobs().delete(run_id)
        print(f"deleted {run_id}")
        return EXIT_OK


class MetricsApp(MLOpsBaseApp):
    name = "jupyter-mlops-metrics"
    description = (
        "Print or export a run's metric series, every key when none is given. "
        "Usage: jupyter mlops metrics RUN_ID [KEY] [--format csv|json] [--max-points N] "
        "[-o FILE]. CSV columns: key,step,value. --max-points N downsamples each series "
        "in the store to at most N points, keeping each bucket's smallest and largest "
        "value; 0 (the default) exports every point."
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "format": "MetricsApp.format",
        "max-points": "MetricsApp.max_points",
        "o": "MetricsApp.output",
        "output": "MetricsApp.output",
    }
    flags = {"json": ({"MetricsApp": {"format": "json"}}, "Same as --format json.")}

    format = Enum(["csv", "json"], default_value="csv", help="Output format.").tag(config=True)
    max_points = Int(0, help="Downsample to at most this many points; 0: all.").tag(config=True)
    output = Unicode("", help="Write to this file instead of standard output.").tag(config=True)

    def run(self) -> int:
        if not 1 <= len(self.extra_args) <= 2:
            _fail(f"expected a run id and optionally a metric key, got {self.extra_args}")
        if self.max_points < 0:
            _fail("--max-points must be 0 (all points) or more")
        run_id = self.resolve_id(self.extra_args[0])
        store = self.store
        keys = store.metric_keys(run_id)
        if len(self.extra_args) == 2:
            key = self.extra_args[1]
            if key not in keys:
                _fail(f"run {run_id} has no metric {key!r}; it has: {', '.join(keys) or 'none'}")
            keys = [key]
        series = [store.metric_series(run_id, key, self.max_points or None) for key in keys]
        if self.output:
            with Path(self.output).open("w", encoding="utf-8", newline="") as stream:
                _write_series(stream, run_id, series, self.format)
        else:
            with _quiet_broken_pipe():
                _write_series(sys.stdout, run_id, series, self.format)
        return EXIT_OK


@contextlib.contextmanager
def _quiet_broken_pipe() -> Iterator[None]:
    """``... | head``: the reader went away; stop writing without a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail


def _write_series(stream: Any, run_id: str, series: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        payload = {
            "run_id": run_id,
            "metrics": [
                {**s, "points": [[step, _json_number(v)] for step, v in s["points"]]}
                for s in series
            ],
        }
        json.dump(payload, stream)
        stream.write("\n")
        return
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["key", "step", "value"])
    for s in series:
        writer.writerows((s["key"], step, repr(v)) for step, v in s["points"])


def _json_number(value: float) -> float | None:
    return None if value != value else value  # NaN is not JSON: null


class ArtifactsGetApp(MLOpsBaseApp):
    name = "jupyter-mlops-artifacts-get"
    description = (
        "Copy one artifact of a run to a file, streamed in chunks. Usage: jupyter mlops "
        "artifacts get RUN_ID NAME -o PATH (PATH a directory: the artifact's file name "
        "in it; no -o or -o -: standard output)."
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "o": "ArtifactsGetApp.output",
        "output": "ArtifactsGetApp.output",
    }
    output = Unicode("", help="Destination file; empty or '-': standard output.").tag(config=True)

    def run(self) -> int:
        import shutil

        from .artifacts import CHUNK, open_artifact_store

        if len(self.extra_args) != 2:
            _fail(f"expected a run id and an artifact name, got {self.extra_args}")
        run_id = self.resolve_id(self.extra_args[0])
        name = self.extra_args[1]
        artifact = self.store.get_artifact(run_id, name)
        if artifact is None:
            names = [a.name for a in self.store.artifacts(run_id)]
            _fail(f"run {run_id} has no artifact {name!r}; it has: {', '.join(names) or 'none'}")
        blobs = open_artifact_store(self.settings)
        if not blobs.exists(artifact.sha256):
            print(f"error: the bytes of {name!r} ({artifact.sha256}) are missing", file=sys.stderr)
            return EXIT_FAILED
        with blobs.open(artifact.sha256) as src:
            if self.output in ("", "-"):
                with _quiet_broken_pipe():
                    shutil.copyfileobj(src, sys.stdout.buffer, CHUNK)
                    sys.stdout.buffer.flush()
            else:
                target = Path(self.output)
                if target.is_dir():
                    target = target / Path(name).name
                with target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                print(f"{name} -> {target} ({artifact.size} bytes)", file=sys.stderr)
        return EXIT_OK


class ArtifactsApp(CommandGroupApp):
    name = "jupyter-mlops-artifacts"
    description = "A run's artifacts: jupyter mlops artifacts get RUN_ID NAME -o PATH"
    subcommands = {"get": (ArtifactsGetApp, "Copy one artifact of a run to a file.")}


class DbUpgradeApp(MLOpsBaseApp):
    name = "jupyter-mlops-db-upgrade"
    description = "Apply the run store's migrations (also done automatically on start)."

    def run(self) -> int:
        from .store.engine import current_revision, make_engine, upgrade

        engine = make_engine(self.settings.resolved_db_url)
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        print(f"run store {engine.url.render_as_string(hide_password=True)}: {before} -> {after}")
        return EXIT_OK


class DbCurrentApp(MLOpsBaseApp):
    name = "jupyter-mlops-db-current"
    description = "Print the run store's schema revision."

    def run(self) -> int:
        from .store.engine import current_revision, make_engine

        print(current_revision(make_engine(self.settings.resolved_db_url)) or "(empty)")
        return EXIT_OK


class DbApp(CommandGroupApp):
    name = "jupyter-mlops-db"
    description = "Run store maintenance."
    subcommands = {
        "upgrade": (DbUpgradeApp, DbUpgradeApp.description),
        "current": (DbCurrentApp, DbCurrentApp.description),
    }


class MLOpsApp(CommandGroupApp):
    name = "jupyter-mlops"
    version = __version__
    description = (
        "jupyter-mlops: notebooks as reproducible, tracked jobs. "
        "Start with: jupyter mlops run NOTEBOOK [-p NAME VALUE ...] --wait"
    )
    subcommands = {
        "run": (RunApp, "Run a notebook as a job."),
        "runs": (RunsApp, "List runs."),
        "show": (ShowApp, "Show one run."),
        "cancel": (CancelApp, "Cancel a run."),
        "reproduce": (ReproduceApp, "Run a run again exactly."),
        "delete": (DeleteApp, "Delete a finished run."),
        "metrics": (MetricsApp, "Print or export a run's metric series (csv, json)."),
        "artifacts": (ArtifactsApp, "A run's artifacts (get)."),
        "kernels": (
            "jupyter_mlops.kernels_cli.KernelsApp",
            "Installed kernels and which can use CUDA; this machine's GPUs.",
        ),
        "db": (DbApp, "Run store maintenance (upgrade, current)."),
        "schedule": (
            "jupyter_mlops.scheduling.cli.ScheduleApp",
            "Cron schedules (add, list, show, pause, resume, delete, run-now).",
        ),
        "scheduler": (
            "jupyter_mlops.scheduling.cli.SchedulerApp",
            "Fire due schedules until stopped (SIGTERM).",
        ),
    }

    show_description = True


def main() -> None:
    from ._imports import skip_slow_jsonschema_formats

    skip_slow_jsonschema_formats()
    MLOpsApp.launch_instance()


if __name__ == "__main__":
    main()
