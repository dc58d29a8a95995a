"""Notebooks as a run sees them: read and validated, their parameters found, the values a
run is given checked.

Every entry point (JupyterLab dialog, REST, CLI, scheduler) validates a run's parameters here
*before* the run is queued, so a typo in ``-p epoch 3`` fails in a second with a message that
lists what the notebook accepts, instead of failing minutes later inside the kernel (papermill
itself injects unknown names silently).

Like papermill (``inspection.py`` apart from ``parameterize.py``), one module per job:

* :mod:`.reading`: read and schema-validate a notebook file, with a fix-it message per failure;
  the notebook's kernel and language;
* :mod:`.inspection`: find the ``parameters`` cell and infer each parameter's name, type,
  default and help text (Python :mod:`ast`, annotations, ``# type:`` comments);
* :mod:`.coercion`: convert command-line strings and check typed values against those
  parameters, every problem reported at once;
* :mod:`.jsonsafe`: what survives being stored as JSON and injected again on reproduce.

None of them imports papermill, and only :func:`~.reading.read_notebook` imports nbformat
(inside the function): ``import nbformat`` pulls in ``jsonschema`` whose format checkers can
cost close to a second, and parameter inspection only needs ``json`` and :mod:`ast`. All
functions that take a notebook accept a plain ``dict`` as well as an ``nbformat.NotebookNode``.
"""
