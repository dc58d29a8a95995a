"""Notebook pipelines: several notebooks as one job, with a step cache and resume.

* :mod:`.spec`: the ``pipeline.yaml`` format (pydantic models, its JSON Schema);
* :mod:`.references`: ``${steps.NAME.KIND.OUTPUT}`` references in parameter values;
* :mod:`.plan`: the DAG (dependencies from ``needs`` and references), cycles, order;
* :mod:`.validation`: every problem of a file against its notebooks, before anything runs;
* :mod:`.outputs`: references resolved against upstream runs (artifacts materialized);
* :mod:`.cache`: the step cache key;
* :mod:`.orchestrator`: start, advance (under a lease) and resume pipeline runs.
"""
