"""``jupyter mlops reproduce RUN``: the same commit, parameters, seed and kernel again, as a
new run linked to the first; with ``--verify``, checked and compared with it.

``--verify`` first checks every input the original recorded (commit, kernel, packages,
datasets by hash) and refuses with exit code 2, before anything runs, when one changed or
is missing (``--allow-changed-inputs`` runs anyway and records that). It waits for the
reproduction, whose runner records the verdict, and exits 0 for ``identical`` or
``equivalent``, 1 for ``differs``. ``--json`` prints the verdict and a reason per input.
"""

from __future__ import annotations

import sys

from traitlets import Bool, Float, List, Unicode

from ..finite_json import dumps_json
from .base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, MLOpsBaseApp
from .follow import SubmittingApp, wait_for_run
from .verify_text import format_verification

VERDICT_EXIT = {"identical": EXIT_OK, "equivalent": EXIT_OK, "differs": EXIT_FAILED}


class ReproduceApp(SubmittingApp):
    name = "jupyter-mlops-reproduce"
    description = (
        "Run again: same commit, parameters, seed and kernel; a new linked run. Secret "
        "parameters (shown as ***) were never stored: give them again with -p NAME VALUE or "
        "set JUPYTER_MLOPS_SECRET_<NAME>. --verify checks the recorded inputs first (exit 2 "
        "when a dataset, the commit or the kernel changed), waits, and compares outputs, "
        "metrics and model weights with the original: exit 0 identical/equivalent, 1 differs."
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "rtol": "ReproduceApp.rtol",
        "atol": "ReproduceApp.atol",
        "normalize": "ReproduceApp.normalize",
    }
    flags = {
        **SubmittingApp.flags,
        "verify": (
            {"ReproduceApp": {"verify": True}},
            "Check the inputs, wait, and compare with the original (a verdict).",
        ),
        "allow-changed-inputs": (
            {"ReproduceApp": {"allow_changed_inputs": True}},
            "With --verify: run even when a recorded input changed (recorded on the run).",
        ),
        "strict-env": (
            {"ReproduceApp": {"strict_env": True}},
            "With --verify: a changed package version refuses too (default: a warning).",
        ),
    }

    takes_parameters = True

    verify = Bool(False).tag(config=True)
    allow_changed_inputs = Bool(False).tag(config=True)
    strict_env = Bool(False).tag(config=True)
    rtol = Float(0.0, help="Relative tolerance for metric values (--verify).").tag(config=True)
    atol = Float(0.0, help="Absolute tolerance for metric values (--verify).").tag(config=True)
    normalize = List(
        Unicode(), help="Another regex of volatile output text (--verify; repeatable)."
    ).tag(config=True)

    command_path = ("reproduce",)

    def submit(self) -> int:
        run_id = self.run_id_argument()
        if not self.verify:
            submission = self.jobs().reproduce(
                run_id, raw_parameters=self.raw_parameters, submitted_by=self.actor
            )
            print(submission.run.id)
            return self.follow(submission)
        return self._verified(run_id)

    def _verified(self, run_id: str) -> int:
        from ..verify.inputs import InputsChanged, checks_json
        from ..verify.service import VerifyOptions

        options = VerifyOptions.with_patterns(
            self.settings.verify_normalize,
            self.normalize,
            rtol=self.rtol,
            atol=self.atol,
            allow_changed_inputs=self.allow_changed_inputs,
            strict_env=self.strict_env,
        )
        try:
            submission = self.jobs().reproduce(
                run_id, raw_parameters=self.raw_parameters, verify=options, submitted_by=self.actor
            )
        except InputsChanged as err:
            if self.json_output:
                refusal = {"verdict": None, "refused": str(err), "inputs": checks_json(err.checks)}
                print(dumps_json(refusal, indent=2))
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USAGE
        new_id = submission.run.id
        if not self.json_output:
            print(new_id)
        status_exit = wait_for_run(self, new_id, submission.handle, self.progress)
        verification = self.store.verification(new_id) or {}
        if self.json_output:
            print(dumps_json({"run_id": new_id, **verification}, indent=2, default=str))
        else:
            print(format_verification(verification), file=sys.stderr)
        verdict = verification.get("verdict")
        if verdict is None:  # the runner died before it could compare
            return status_exit or EXIT_FAILED
        return VERDICT_EXIT.get(verdict, EXIT_FAILED)
