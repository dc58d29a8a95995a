"""``jupyter mlops logs RUN_ID [--follow]``: real runs, real CLI processes."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import IO

from jupyter_mlops.config import Settings
from jupyter_mlops.store import RunStore

from .conftest import mlops, mlops_line
from .test_runs import wait_until


class Collected:
    """Everything a process writes to one pipe, read by a thread as it comes."""

    def __init__(self, pipe: IO[str]) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.text += line

    def join(self) -> str:
        self._thread.join(timeout=30)
        return self.text


def submitted_id(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_logs_prints_the_output_so_far(env: dict[str, str], project: Path) -> None:
    run_id = submitted_id(
        mlops_line("run notebooks/live_output.ipynb --wait", env=env, cwd=project)
    )
    logs = mlops("logs", run_id[:8], env=env)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout == "first line\nsecond line\nlast line\n'the result'\n"
    assert logs.stderr == "to stderr\n"
    unknown = mlops("logs", "0123456789ab", env=env)
    assert unknown.returncode == 2 and "0123456789ab" in unknown.stderr


def test_logs_follow_prints_new_output_until_the_run_ends_with_its_exit_code(
    env: dict[str, str], project: Path, data_dir: Path, tmp_path: Path
) -> None:
    gate, gate2 = tmp_path / "gate", tmp_path / "gate2"
    run_id = submitted_id(
        mlops_line(
            f"run notebooks/live_output.ipynb -p gate {gate} -p gate2 {gate2} -p fail True",
            env=env,
            cwd=project,
        )
    )
    store = RunStore.from_settings(Settings(data_dir=data_dir))
    try:
        wait_until(lambda: bool(store.output_since(run_id)), timeout=120)
    finally:
        store.close()
    follower = subprocess.Popen(
        ["jupyter", "mlops", "logs", run_id, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert follower.stdout is not None and follower.stderr is not None
        out, err = Collected(follower.stdout), Collected(follower.stderr)
        wait_until(lambda: "first line\n" in out.text, timeout=60)
        assert follower.poll() is None  # still following: the run waits at the gate
        gate.touch()
        wait_until(lambda: "second line\n" in out.text, timeout=60)  # printed while following
        assert follower.poll() is None
        gate2.touch()
        code = follower.wait(timeout=120)
        stdout, stderr = out.join(), err.join()
    finally:
        if follower.poll() is None:
            follower.kill()
    assert code == 1  # the run failed: the code of `run --wait`
    assert stdout == "first line\nsecond line\nlast line\n"
    assert stderr.startswith("to stderr\n")
    assert "RuntimeError" in stderr and "failed on purpose" in stderr
    assert f"run {run_id} failed" in stderr.splitlines()[-1]
