"""``jupyter mlops metrics`` and ``jupyter mlops artifacts get``: a run's results out of
the store, to standard output or a file, streamed (a pipe into ``head`` ends quietly)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from traitlets import Enum, Int, Unicode

from ..finite_json import dumps_json
from .base import EXIT_FAILED, EXIT_OK, CommandGroupApp, MLOpsBaseApp, fail, quiet_broken_pipe


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

    subcommands = {
        "push": (
            "jupyter_mlops.cli.streams.MetricsPushApp",
            "Append production figures to a monitored stream.",
        )
    }

    format = Enum(["csv", "json"], default_value="csv", help="Output format.").tag(config=True)
    max_points = Int(0, help="Downsample to at most this many points; 0: all.").tag(config=True)
    output = Unicode("", help="Write to this file instead of standard output.").tag(config=True)

    def start(self) -> None:
        if self.subapp is not None:  # ``metrics push``
            self.subapp.start()
            return
        super().start()

    def run(self) -> int:
        if not 1 <= len(self.extra_args) <= 2:
            fail(f"expected a run id and optionally a metric key, got {self.extra_args}")
        if self.max_points < 0:
            fail("--max-points must be 0 (all points) or more")
        run_id = self.resolve_id(self.extra_args[0])
        store = self.store
        keys = store.metric_keys(run_id)
        if len(self.extra_args) == 2:
            key = self.extra_args[1]
            if key not in keys:
                fail(f"run {run_id} has no metric {key!r}; it has: {', '.join(keys) or 'none'}")
            keys = [key]
        series = [store.metric_series(run_id, key, self.max_points or None) for key in keys]
        if self.output:
            with Path(self.output).open("w", encoding="utf-8", newline="") as stream:
                _write_series(stream, run_id, series, self.format)
        else:
            with quiet_broken_pipe():
                _write_series(sys.stdout, run_id, series, self.format)
        return EXIT_OK


def _write_series(stream: Any, run_id: str, series: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        payload = {"run_id": run_id, "metrics": series}
        stream.write(dumps_json(payload))  # NaN and infinities (JSON has none): null
        stream.write("\n")
        return
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["key", "step", "value"])
    for s in series:
        writer.writerows((s["key"], step, repr(v)) for step, v in s["points"])


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

        from ..artifacts import CHUNK, open_artifact_store

        if len(self.extra_args) != 2:
            fail(f"expected a run id and an artifact name, got {self.extra_args}")
        run_id = self.resolve_id(self.extra_args[0])
        name = self.extra_args[1]
        artifact = self.store.get_artifact(run_id, name)
        if artifact is None:
            names = [a.name for a in self.store.artifacts(run_id)]
            fail(f"run {run_id} has no artifact {name!r}; it has: {', '.join(names) or 'none'}")
        blobs = open_artifact_store(self.settings)
        if not blobs.exists(artifact.sha256):
            print(f"error: the bytes of {name!r} ({artifact.sha256}) are missing", file=sys.stderr)
            return EXIT_FAILED
        with blobs.open(artifact.sha256) as src:
            if self.output in ("", "-"):
                with quiet_broken_pipe():
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
