"""A secret parameter on the Dask backend (real ``LocalCluster``, real PostgreSQL store):
the value travels in the task's arguments, never through the store, and the worker hands
it to the runner; no column of any PostgreSQL table holds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.masking import HANDOVER_FILE, MASK, SECRET_PARAM_TYPE
from jupyter_mlops.store import RunStore

from .test_dask import cluster, dask_settings, service, service_settings  # noqa: F401
from .test_runs import wait_for
from .test_secrets import NOTEBOOK, SECRET, assert_computed_with, files_containing

pytest.importorskip("distributed")


def table_texts(run_store: RunStore) -> list[tuple[str, str]]:
    """(table, column) of every value of every table whose JSON text holds the secret."""
    meta = MetaData()
    meta.reflect(run_store.engine)
    found = []
    with run_store.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if SECRET in json.dumps(value, default=str):
                        found.append((table.name, column))
    return found


@pytest.mark.postgres
def test_dask_run_gets_the_secret_through_its_task(
    service: JobService,  # noqa: F811
    store: RunStore,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_local_file(*args: object) -> None:
        raise AssertionError("the submitting process wrote a hand-over file")

    # the worker (another process) writes it; this process must not
    monkeypatch.setattr("jupyter_mlops.masking.write_handover", no_local_file)
    sub = service.submit(
        RunSpec(notebook=str(project / NOTEBOOK), raw_parameters={"api_key": SECRET, "lr": "0.25"})
    )
    assert sub.run.backend == "dask"
    run = wait_for(service, sub)
    assert_computed_with(run, service, SECRET)
    types = {p.name: (json.loads(p.value_json), p.type_name) for p in run.params}
    assert types["api_key"] == (MASK, SECRET_PARAM_TYPE)
    assert table_texts(store) == []
    assert not (service.settings.runs_dir / run.id / HANDOVER_FILE).exists()
    shared = Path(service.settings.artifact_root.removeprefix("file://"))
    assert files_containing(service.settings.data_dir, SECRET) == []
    assert files_containing(shared, SECRET) == []
