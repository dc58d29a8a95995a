"""The values a runner injects into its notebook, and the secret ones among them.

The job's parameters, not what the notebook logged itself; a secret parameter's value comes
from the runner's hand-over (:mod:`jupyter_mlops.masking`), never from the store.
"""

from __future__ import annotations

import json
from typing import Any

from .masking import Handover
from .store import Run


def notebook_parameters(run: Run, handover: Handover | None = None) -> dict[str, Any]:
    """The values injected into the notebook: the job's parameters, not the ones the
    notebook itself logged with ``log_params`` (those are results, and their names need
    not be valid Python identifiers). A secret parameter is a
    :class:`~jupyter_mlops.masking.SecretFromEnv` marker: the injected cell reads it from
    the kernel's environment."""
    from .masking import SECRET_PARAM_TYPE, SecretFromEnv, secret_env_name
    from .store.artifacts import injected_params

    secrets = secret_parameters(run, handover or Handover())
    return {
        p.name: (
            SecretFromEnv(secret_env_name(p.name), is_json=not isinstance(secrets[p.name], str))
            if p.type_name == SECRET_PARAM_TYPE
            else json.loads(p.value_json)
        )
        for p in injected_params(run)
    }


def secret_parameters(run: Run, handover: Handover) -> dict[str, Any]:
    """{name: value} of the run's secret parameters, from the hand-over; a secret the
    runner was not given fails the run (its value exists nowhere else)."""
    from .masking import SECRET_PARAM_TYPE
    from .store.artifacts import injected_params

    names = [p.name for p in injected_params(run) if p.type_name == SECRET_PARAM_TYPE]
    missing = [n for n in names if n not in handover.parameters]
    if missing:
        raise RuntimeError(
            f"the value of the secret parameter(s) {', '.join(missing)} did not reach the "
            "runner (it is never stored; reproduce the run giving it again)"
        )
    return {n: handover.parameters[n] for n in names}
