"""``jupyter mlops ...``: the headless face of jupyter-mlops, for cron, CI and servers.

A traitlets application like the rest of Jupyter, so ``c.MLOps.db_url`` in
``jupyter_mlops_config.py`` and ``--MLOps.db_url=...`` work as users expect.

Exit codes scripts can rely on: 0 the run succeeded (or the command did its job),
1 the run failed, 2 bad input, 3 cancelled, 4 timed out, 5 lost.

One module per command group, so a command imports only what it runs: :mod:`.run`,
:mod:`.runs` (runs, show), :mod:`.cancel` (cancel, delete), :mod:`.reproduce`,
:mod:`.results` (metrics, artifacts), :mod:`.logs`, :mod:`.kernels`, :mod:`.db`,
:mod:`.schedule`, :mod:`.scheduler`, :mod:`.trigger`, :mod:`.hooks`, :mod:`.streams`,
:mod:`.lineage` (lineage, datasets), :mod:`.compare`, :mod:`.pipeline`, :mod:`.models`,
:mod:`.worker`; :mod:`.base` and :mod:`.follow` hold what they share, :mod:`.text` (and
:mod:`.verify_text`) how they print for people.
"""

from __future__ import annotations

from ..exports import __version__
from .base import CommandGroupApp


def _command(module: str, app: str) -> str:
    """The import path of a subcommand's app: loaded only when that command runs."""
    return f"jupyter_mlops.cli.{module}.{app}"


class MLOpsApp(CommandGroupApp):
    name = "jupyter-mlops"
    version = __version__
    description = (
        "jupyter-mlops: notebooks as reproducible, tracked jobs. "
        "Start with: jupyter mlops run NOTEBOOK [-p NAME VALUE ...] --wait"
    )
    subcommands = {
        "run": (_command("run", "RunApp"), "Run a notebook as a job."),
        "runs": (_command("runs", "RunsApp"), "List runs."),
        "show": (_command("runs", "ShowApp"), "Show one run."),
        "cancel": (_command("cancel", "CancelApp"), "Cancel a run."),
        "reproduce": (_command("reproduce", "ReproduceApp"), "Run a run again exactly."),
        "delete": (_command("cancel", "DeleteApp"), "Delete a finished run."),
        "compare": (
            _command("compare", "CompareApp"),
            "Two runs side by side: inputs (hash, data drift), parameters, metrics.",
        ),
        "metrics": (
            _command("results", "MetricsApp"),
            "Print or export a run's metric series (csv, json).",
        ),
        "artifacts": (_command("results", "ArtifactsApp"), "A run's artifacts (get)."),
        "logs": (
            _command("logs", "LogsApp"),
            "Print what a run's cells printed (--follow: until it ends).",
        ),
        "kernels": (
            _command("kernels", "KernelsApp"),
            "Installed kernels and which can use CUDA; this machine's GPUs.",
        ),
        "db": (_command("db", "DbApp"), "Run store maintenance (upgrade, current)."),
        "schedule": (
            _command("schedule", "ScheduleApp"),
            "Cron schedules (add, list, show, pause, resume, delete, run-now).",
        ),
        "trigger": (
            _command("trigger", "TriggerApp"),
            "Event triggers: on a commit, new data, drift or a metric (add, list, ...).",
        ),
        "hooks": (_command("hooks", "HooksApp"), "Git hooks that wake on-commit triggers."),
        "pipeline": (
            _command("pipeline", "PipelineApp"),
            "Notebook pipelines (run, show, resume, list).",
        ),
        "scheduler": (
            _command("scheduler", "SchedulerApp"),
            "Fire due schedules until stopped (SIGTERM).",
        ),
        "lineage": (
            _command("lineage", "LineageApp"),
            "What data and code produced a run or an artifact (RUN_ID or SHA256).",
        ),
        "datasets": (
            _command("lineage", "DatasetsApp"),
            "Datasets runs read, their versions (hashes) and the runs of each.",
        ),
        "models": (
            _command("models", "ModelsApp"),
            "Model registry (register, list, show, promote, policy, history, export).",
        ),
        "worker": (
            _command("worker", "WorkerApp"),
            "Keep a warm runner host (fork server) up for this machine's runs.",
        ),
    }

    show_description = True


def main() -> None:
    from .._imports import skip_slow_jsonschema_formats

    skip_slow_jsonschema_formats()
    MLOpsApp.launch_instance()
