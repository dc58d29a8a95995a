"""``jupyter mlops reproduce RUN``: the same commit, parameters, seed and kernel again, as a
new run linked to the first."""

from __future__ import annotations

from .follow import SubmittingApp


class ReproduceApp(SubmittingApp):
    name = "jupyter-mlops-reproduce"
    description = "Run again: same commit, parameters, seed and kernel; a new linked run."

    def run(self) -> int:
        submission = self.jobs().reproduce(self.run_id_argument())
        print(submission.run.id)
        return self.follow(submission)
