"""Verified reproduction: compare a run with its reproduction and give a verdict.

* :mod:`.normalize`: volatile text (addresses, timestamps, durations) and its patterns;
* :mod:`.cells`: the executed notebooks' outputs, cell by cell;
* :mod:`.metrics`: logged metric series, exact or within ``rtol``/``atol``;
* :mod:`.verdict`: model weights by hash, and the verdict itself;
* :mod:`.inputs`: the pre-flight check of every recorded input (commit, kernel, packages,
  datasets);
* :mod:`.service`: the request at submit and the verdict the runner records at the end.

Nothing is imported here: :mod:`jupyter_mlops.config` reads the default patterns of
:mod:`.normalize`, and every process (runners too) imports the configuration; the rest
loads only where a reproduction is verified. Public names: ``verify.service.VerifyOptions``,
``compare_runs``, ``verify_finished_run``; ``verify.inputs.InputsChanged``, ``InputCheck``;
``verify.verdict.Verdict`` and its ``IDENTICAL``/``EQUIVALENT``/``DIFFERS``.
"""
