"""``jupyter mlops metrics push --stream NAME KEY VALUE [KEY VALUE ...] [--step N]``.

For monitoring jobs that are not Python (a shell script after a batch scoring, a cron
job): the same monitored streams that ``log_metric(..., stream=...)`` writes to.
"""

from __future__ import annotations

from traitlets import Int, Unicode

from .base import EXIT_OK, MLOpsBaseApp, fail


class MetricsPushApp(MLOpsBaseApp):
    name = "jupyter-mlops-metrics-push"
    description = "Append production figures to a monitored stream (for metric triggers)."
    aliases = {
        **MLOpsBaseApp.aliases,
        "stream": "MetricsPushApp.stream",
        "step": "MetricsPushApp.step",
    }
    stream = Unicode("", help="The monitored stream (required).").tag(config=True)
    step = Int(-1, help="Step of the points (default: none).").tag(config=True)

    def run(self) -> int:
        from ..tracking.streams import push_to_stream

        if not self.stream:
            fail("--stream NAME is required (the stream a metric trigger watches)")
        args = self.extra_args
        if not args or len(args) % 2:
            fail(f"expected KEY VALUE pairs, got {args}")
        metrics = dict(zip(args[::2], args[1::2], strict=True))
        written = push_to_stream(
            self.store, self.stream, metrics, self.step if self.step >= 0 else None
        )
        print(f"{written} point(s) pushed to stream {self.stream}")
        return EXIT_OK
