"""The model registry: named models, numbered versions of logged model artifacts, aliases
that move only through the validation gate (or by force, recorded), an audit trail, model
cards and export.

* :mod:`.uris`: ``models:/NAME/VERSION`` and ``models:/NAME@ALIAS``, names and aliases;
* :mod:`.requirements`: ``METRIC OP NUMBER`` / ``METRIC OP baseline [+|- NUMBER]``;
* :mod:`.service`: register, resolve, policies, deletion (what the CLI, REST and the
  tracking API call);
* :mod:`.gate`: promotion: the validation runs, the verdicts, the compare-and-set;
* :mod:`.views`: the JSON of models, versions and events (CLI ``--json`` and REST);
* :mod:`.cards`: the model card and ``export``.
"""
