"""``jupyter mlops reproduce RUN``: the same commit, parameters, seed and kernel again, as a
new run linked to the first."""

from __future__ import annotations

from .follow import SubmittingApp


class ReproduceApp(SubmittingApp):
    name = "jupyter-mlops-reproduce"
    description = (
        "Run again: same commit, parameters, seed and kernel; a new linked run. Secret "
        "parameters (shown as ***) were never stored: give them again with -p NAME VALUE or "
        "set JUPYTER_MLOPS_SECRET_<NAME>."
    )

    takes_parameters = True

    def run(self) -> int:
        submission = self.jobs().reproduce(
            self.run_id_argument(), raw_parameters=self.raw_parameters, submitted_by=self.actor
        )
        print(submission.run.id)
        return self.follow(submission)
