"""Tests for jupyter_mlops.environment: secret filtering and the captured environment.

Real interpreters are used throughout: the current one (in-process probe), and a fresh venv
(subprocess probe) that gets a tiny stand-in ``torch`` package so the torch cache and its
invalidation can be exercised without a second copy of real torch.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.environment import (
    SECRET_NAME_PATTERN,
    _runtime_from_nvml,
    _visible_devices,
    capture_environment,
    filter_environment_variables,
    redact_value,
)

HAS_TORCH = importlib.util.find_spec("torch") is not None
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One torch cache for tests that do not test the cache, so only one pays ``import torch``."""
    return tmp_path_factory.mktemp("torch-cache")


def capture(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("kernel_name", "python3")
    kwargs.setdefault("kernel_python", sys.executable)
    return capture_environment(**kwargs)


def capture_in_fresh_process(cache_dir: Path | None) -> dict[str, Any]:
    """Capture from a new interpreter: the torch cache path is only taken where torch
    has not been imported yet, and other tests in this process may have imported it."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from jupyter_mlops.environment import capture_environment\n"
        "cache = None if sys.argv[1] == '-' else Path(sys.argv[1])\n"
        "env = capture_environment(kernel_name='python3', kernel_python=sys.executable,"
        " cache_dir=cache)\n"
        "print(json.dumps(env['torch']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(cache_dir) if cache_dir else "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"torch": json.loads(out.stdout)}


# ----------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "HF_TOKEN",
        "JUPYTER_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "WANDB_API_KEY",
        "PGPASSWORD",
        "DB_PASSWD",
        "MYSQL_PWD",
        "SMTP_PASS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "NPM_CONFIG__AUTH",
        "SSH_PRIVATE",
        "FLASK_SESSION",
        "BROWSER_COOKIE",
        "REQUEST_SIGNATURE",
        "CLIENT_CERT",
        "SENTRY_DSN",
        "AZURE_STORAGE_CONNECTION_STRING",
        "my_api_key",
    ],
)
def test_secret_names_match(name: str) -> None:
    assert SECRET_NAME_PATTERN.search(name)


@pytest.mark.parametrize(
    "name",
    ["PATH", "PWD", "OLDPWD", "HOME", "LANG", "CUDA_VISIBLE_DEVICES", "PYTHONPATH", "USER"],
)
def test_ordinary_names_do_not_match(name: str) -> None:
    assert not SECRET_NAME_PATTERN.search(name)


def test_filter_drops_secret_names_and_token_values() -> None:
    env = {
        "PATH": "/usr/bin",
        "API_TOKEN": "abc",
        "INNOCENT": "ghp_" + "A1b2" * 9,
        "KEY_MATERIAL": "-----BEGIN RSA PRIVATE KEY-----",
        "LANG": "C.UTF-8",
    }
    assert filter_environment_variables(env) == {"LANG": "C.UTF-8", "PATH": "/usr/bin"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "postgresql+psycopg://alice:hunter2@db:5432/mlops",
            "postgresql+psycopg://alice:***@db:5432/mlops",
        ),
        ("redis://:p@ss@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            "https://u:one@a.example/simple https://v:two@b.example/simple",
            "https://u:***@a.example/simple https://v:***@b.example/simple",
        ),
        ("https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r", "https://***@github.com/o/r"),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        (
            "https://acct.blob.core.windows.net/c/f?sv=2022&sig=abc%2Bdef&se=1",
            "https://acct.blob.core.windows.net/c/f?sv=2022&sig=***&se=1",
        ),
        ("-Dpassword=xyz -Dother=1", "-Dpassword=*** -Dother=1"),
        ("/usr/local/bin:/usr/bin", "/usr/local/bin:/usr/bin"),
    ],
)
def test_redact_value(value: str, expected: str) -> None:
    assert redact_value(value) == expected


def test_secret_values_appear_nowhere_in_capture(
    shared_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "MY_SERVICE_TOKEN": "tok-value-111aaa",
        "HARMLESS_LOOKING": "hf_" + "Zq9" * 10,
        "WEIRD_PASSPHRASE": "correct-horse-battery",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JUPYTER_MLOPS_DB_URL", "postgresql+psycopg://alice:hunter2pw@db/mlops")
    monkeypatch.setenv("EXTRA_INDEX", "https://user:pw-in-url-999@pypi.example.com/simple")
    env = capture(cache_dir=shared_cache)
    dumped = json.dumps(env)
    for value in [*secrets.values(), "hunter2pw", "pw-in-url-999"]:
        assert value not in dumped
    variables = env["environment_variables"]
    assert variables["JUPYTER_MLOPS_DB_URL"] == "postgresql+psycopg://alice:***@db/mlops"
    assert "MY_SERVICE_TOKEN" not in variables
    assert variables["PATH"] == os.environ["PATH"]


# ----------------------------------------------------------------------------- capture


def test_capture_current_interpreter(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    env = capture(cache_dir=shared_cache, extra={"seed": 42, "git": {"commit": "abc"}})
    json.dumps(env, allow_nan=False)  # strictly JSON-safe
    assert env["schema"] == 1
    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["python"]["executable"] == sys.executable
    assert env["packages"]["nbformat"] == importlib.metadata.version("nbformat")
    assert env["packages"]["pyyaml"] == importlib.metadata.version("pyyaml")
    assert env["kernel"]["name"] == "python3"
    assert env["kernel"]["python"] == sys.executable
    assert env["kernel"]["display_name"]
    assert set(env["platform"]) == {"system", "release", "machine", "platform"}
    assert env["hostname"] and env["user"] and env["cwd"] == os.getcwd()
    assert env["hardware"]["cpu_count"] >= 1
    assert isinstance(env["gpus"]["devices"], list)
    if not env["gpus"]["devices"]:
        assert env["gpus"]["driver_version"] is None
    assert env["cuda_visible_devices"] == ""
    assert (env["seed"], env["git"]) == (42, {"commit": "abc"})
    assert env["capture_seconds"] >= 0


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_torch_section_and_cache(tmp_path: Path) -> None:
    cold = capture_in_fresh_process(tmp_path)
    torch = cold["torch"]
    assert torch["version"] == importlib.metadata.version("torch")
    assert {"cuda", "cudnn", "cuda_available", "device_count", "devices"} <= set(torch)
    assert torch["cache"] == "miss"
    (cache_file,) = tmp_path.glob("torch-*.json")
    mtime = cache_file.stat().st_mtime_ns
    warm = capture_in_fresh_process(tmp_path)
    assert warm["torch"]["cache"] == "hit"
    assert warm["torch"]["version"] == torch["version"]
    assert warm["torch"]["cuda"] == torch["cuda"]
    assert warm["torch"]["cuda_available"] == torch["cuda_available"]
    assert warm["torch"]["device_count"] == torch["device_count"]
    assert cache_file.stat().st_mtime_ns == mtime
    assert list(tmp_path.glob("torch-*.json")) == [cache_file]
    uncached = capture_in_fresh_process(None)
    assert uncached["torch"]["cache"] == "disabled"
    assert uncached["torch"]["version"] == torch["version"]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_capture_does_not_import_torch_and_a_warm_capture_probes_nothing(tmp_path: Path) -> None:
    """The first capture probes torch in a subprocess (its ``import torch`` costs seconds)
    and caches the static facts; the second reads the cache and starts no probe. Counted,
    not timed: a loaded machine makes any wall-clock bound a coin toss."""
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from jupyter_mlops import environment\n"
        "probes = []\n"
        "run_python = environment._run_python\n"
        "def counting(python, code):\n"
        "    probes[-1] += code == environment._TORCH_PROBE\n"
        "    return run_python(python, code)\n"
        "environment._run_python = counting\n"
        "for _ in range(2):\n"
        "    probes.append(0)\n"
        "    env = environment.capture_environment(kernel_name='python3',\n"
        f"        kernel_python=sys.executable, cache_dir=Path({str(tmp_path)!r}))\n"
        "print(json.dumps({'torch_imported': 'torch' in sys.modules, 'probes': probes,\n"
        "                  'cache': env['torch']['cache']}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["torch_imported"] is False
    assert result["cache"] == "hit"
    assert result["probes"] == [1, 0], result


def _make_venv(root: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    return bindir / ("python.exe" if os.name == "nt" else "python")


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _install_fake_torch(site: Path, version: str, cuda: str | None) -> Path:
    """A minimal importable ``torch`` with dist metadata, standing in for a CUDA build."""
    pkg = site / "torch"
    (pkg / "backends").mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        f"__version__ = {version!r}\nfrom . import version, backends, cuda\n", encoding="utf-8"
    )
    (pkg / "version.py").write_text(
        f"cuda = {cuda!r}\nhip = None\ngit_version = 'fake'\ndebug = False\n", encoding="utf-8"
    )
    (pkg / "backends" / "__init__.py").write_text("from . import cudnn\n", encoding="utf-8")
    (pkg / "backends" / "cudnn.py").write_text(
        "def is_available():\n    return True\n\ndef version():\n    return 90100\n",
        encoding="utf-8",
    )
    (pkg / "cuda.py").write_text(
        "def is_available():\n    return False\n\ndef device_count():\n    return 0\n",
        encoding="utf-8",
    )
    dist = site / f"torch-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n", encoding="utf-8"
    )
    return pkg


def test_other_interpreter_is_probed_in_subprocess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # would leak this env's packages in
    python = _make_venv(tmp_path / "venv")
    # A venv's python is a symlink to the base interpreter: same realpath, other packages.
    env = capture(kernel_python=str(python), cache_dir=tmp_path / "cache")
    assert env["python"]["executable"] == str(python)
    assert "nbformat" not in env["packages"]
    assert env["torch"] is None
    assert env["kernel"]["python"] == str(python)


def test_torch_cache_for_other_interpreter_and_invalidation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the real torch must not shadow the fake
    python = _make_venv(tmp_path / "venv")
    pkg = _install_fake_torch(_site_packages(python), "9.9.9", "12.4")
    cache = tmp_path / "cache"
    first = capture(kernel_python=str(python), cache_dir=cache)["torch"]
    assert first["version"] == "9.9.9"
    assert (first["cuda"], first["cudnn"], first["cache"]) == ("12.4", 90100, "miss")
    assert first["cuda_available"] is False
    assert len(list(cache.glob("torch-*.json"))) == 1
    second = capture(kernel_python=str(python), cache_dir=cache)["torch"]
    assert (second["version"], second["cudnn"], second["cache"]) == ("9.9.9", 90100, "hit")
    # Reinstalling torch changes version.py's mtime: the cache entry no longer applies.
    later = time.time() + 5
    os.utime(pkg / "version.py", (later, later))
    third = capture(kernel_python=str(python), cache_dir=cache)["torch"]
    assert third["cache"] == "miss"
    assert len(list(cache.glob("torch-*.json"))) == 2


def test_broken_interpreter_is_recorded_not_raised(tmp_path: Path) -> None:
    env = capture(kernel_python=str(tmp_path / "missing" / "python"), cache_dir=tmp_path)
    assert "error" in env["packages"]
    assert "error" in env["python"]
    assert env["environment_variables"]  # other sections still captured


# ----------------------------------------------------------------------------- GPU logic


GPUS = [
    {"index": 0, "name": "NVIDIA H100", "uuid": "GPU-aaaa-1111", "memory_total": 80},
    {"index": 1, "name": "NVIDIA H100", "uuid": "GPU-bbbb-2222", "memory_total": 80},
]


@pytest.mark.parametrize(
    ("visible", "indices"),
    [
        (None, [0, 1]),
        ("", []),
        ("1", [1]),
        ("1,0", [1, 0]),
        ("0,7,1", [0]),
        ("-1", []),
        ("GPU-bbbb", [1]),
        ("GPU-", []),
    ],
)
def test_visible_devices(visible: str | None, indices: list[int]) -> None:
    chosen = _visible_devices(GPUS, visible)
    assert chosen is not None
    assert [d["index"] for d in chosen] == indices


def test_visible_devices_mig_is_undecidable() -> None:
    assert _visible_devices(GPUS, "MIG-1234") is None


def test_runtime_from_nvml() -> None:
    gpus = {"devices": GPUS, "source": "nvml"}
    cpu_build = _runtime_from_nvml({"cuda": None}, gpus, {})
    assert cpu_build == {
        "cuda_available": False,
        "device_count": 0,
        "devices": [],
        "source": "build",
    }
    cuda = _runtime_from_nvml({"cuda": "12.4"}, gpus, {"CUDA_VISIBLE_DEVICES": "1"})
    assert cuda is not None
    assert (cuda["cuda_available"], cuda["device_count"]) == (True, 1)
    assert cuda["devices"] == [{"name": "NVIDIA H100", "total_memory": 80}]
    no_driver = _runtime_from_nvml({"cuda": "12.4"}, {"devices": [], "source": None}, {})
    assert no_driver is not None and no_driver["cuda_available"] is False
    mixed = [GPUS[0], {**GPUS[1], "name": "NVIDIA A100"}]
    assert _runtime_from_nvml({"cuda": "12.4"}, {"devices": mixed, "source": "nvml"}, {}) is None
    pci = {"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert _runtime_from_nvml({"cuda": "12.4"}, {"devices": mixed, "source": "nvml"}, pci)
    assert _runtime_from_nvml({"cuda": None, "hip": "6.0"}, gpus, {}) is None
