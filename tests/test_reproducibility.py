"""The reproducibility summary and the runtime facts behind it (container, lock files),
and the pre-flight checks of a verified reproduction on real repositories and kernels."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.reproducibility import reproducibility_summary
from jupyter_mlops.runtime_facts import container_facts, lock_files
from jupyter_mlops.store.models import RunParam
from jupyter_mlops.verify.inputs import (
    InputsChanged,
    check_commit,
    check_kernel,
    check_packages,
    refuse_changed,
)

from .conftest import git, make_run


def items(summary: list[dict]) -> dict[str, dict]:
    return {i["item"]: i for i in summary}


def test_container_evidence_and_image(tmp_path: Path) -> None:
    assert container_facts(tmp_path, {}) == {"in_container": False, "evidence": None, "image": None}
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cgroup").write_text("0::/kubepods/burstable/pod1234/abcd\n")
    facts = container_facts(tmp_path, {"JUPYTER_IMAGE_SPEC": "quay.io/team/nb:2026.12"})
    assert facts == {
        "in_container": True,
        "evidence": "/proc/1/cgroup names kubepods",
        "image": "quay.io/team/nb:2026.12",
    }
    (tmp_path / ".dockerenv").write_text("")
    assert container_facts(tmp_path, {})["evidence"] == "/.dockerenv"


def test_lock_files_and_fully_pinned_requirements(tmp_path: Path) -> None:
    (tmp_path / "nb").mkdir()
    (tmp_path / "requirements.txt").write_text("numpy>=1\n")
    assert lock_files(tmp_path, tmp_path / "nb") == []
    (tmp_path / "nb" / "requirements-lock.txt").write_text("# pinned\nnumpy==2.1.0\ntorch==2.5\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert lock_files(tmp_path, tmp_path / "nb") == ["uv.lock", "nb/requirements-lock.txt"]


def test_the_summary_says_what_is_pinned() -> None:
    run = make_run("r1", seed=5, gpus=0, dirty=False)
    run.params = [
        RunParam(name="lr", value_json="0.1", type_name="float"),
        RunParam(name="api_key", value_json='"***"', type_name="secret"),
    ]
    env = {
        "python": {"version": "3.11.7"},
        "packages": {"torch": "2.5.0", "numpy": "2.1.0"},
        "lock_files": [],
        "container": {"in_container": False, "evidence": None, "image": None},
        "kernel_cuda": {
            "torch_imported": True,
            "torch_version": "2.5.0",
            "deterministic_algorithms": False,
        },
        "platform": {"machine": "x86_64"},
    }
    summary = items(reproducibility_summary(run, env, []))
    assert summary["commit"]["pinned"] and summary["commit"]["detail"] == "snapshot " + "a" * 12
    assert not summary["parameters"]["pinned"] and "api_key" in summary["parameters"]["detail"]
    assert summary["seed"]["detail"].startswith("seed 5")
    assert summary["data"] == {
        "item": "data",
        "pinned": False,
        "detail": "no inputs recorded: data read without use_dataset",
    }
    assert summary["framework"]["detail"] == "torch 2.5.0"
    assert summary["deterministic algorithms"] == {
        "item": "deterministic algorithms",
        "pinned": False,
        "detail": "torch.use_deterministic_algorithms off",
    }
    assert summary["packages"]["detail"] == "packages not from a lock file (2 versions recorded)"
    assert summary["runtime"]["detail"] == "Python 3.11.7, kernel python3"
    assert not summary["container"]["pinned"]
    assert summary["device"]["detail"] == "CPU (x86_64)"

    env["lock_files"] = ["uv.lock"]
    env["kernel_cuda"]["deterministic_algorithms"] = True
    env["container"] = {"in_container": True, "evidence": "/.dockerenv", "image": "img:1"}
    run.gpus = 1
    env["gpus"] = {"driver_version": "550.54", "devices": [{"name": "H100"}]}
    env["torch"] = {"cuda": "12.4", "cudnn": 90100}
    summary = items(reproducibility_summary(run, env, [object()]))
    assert summary["data"]["pinned"] and summary["packages"]["pinned"]
    assert summary["deterministic algorithms"]["pinned"]
    assert summary["container"] == {"item": "container", "pinned": True, "detail": "image img:1"}
    assert summary["driver, CUDA, cuDNN"]["detail"] == "driver 550.54, CUDA 12.4, cuDNN 90100"
    assert summary["device"]["detail"] == "1 GPU(s) of H100"


def test_a_commit_gone_from_its_repository_is_missing(project: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    assert check_commit(str(project / ".git"), head).reason == "same"
    gone = check_commit(str(project / ".git"), "f" * 40)
    assert (gone.status, gone.reason, gone.blocking) == ("missing", "missing", True)
    with_missing_dir = check_commit(str(project / "no-such-dir"), head)
    assert with_missing_dir.status == "missing"


def test_kernel_and_package_reasons() -> None:
    assert check_kernel("python3").reason == "same"
    missing = check_kernel("no-such-kernel-xyz")
    assert missing.status == "missing" and missing.blocking
    checks = check_packages(
        {"NumPy": "2.1.0", "torch": "2.5.0", "Jupyter_Core": "5.7", "gone": "1.0"},
        {"numpy": "2.1.0", "torch": "2.6.0", "jupyter-core": "5.7", "new": "0.1"},
        strict=False,
    )
    reasons = {c.name: c.reason for c in checks}
    assert reasons == {
        "2 of 4 packages": "same",
        "gone": "missing",
        "torch": "changed: 2.5.0 → 2.6.0",
        "new": "added: 0.1",
    }
    assert not any(c.blocking for c in checks)  # warnings only
    strict = check_packages({"torch": "2.5.0"}, {"torch": "2.6.0"}, strict=True)
    try:
        refuse_changed("r1", strict, allow=False)
    except InputsChanged as err:
        assert "package torch: changed: 2.5.0 → 2.6.0" in str(err)
    else:
        raise AssertionError("a strict package difference must refuse")
    assert refuse_changed("r1", strict, allow=True) is True
