"""The environment record's package list comes from a cache while no package changes
(``jupyter_mlops.package_probe``): real distributions' metadata on a real ``sys.path``
entry, installed, upgraded and removed as an installer does it (a ``*.dist-info``
directory each), and a real in-process probe each time."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.environment import capture_environment
from jupyter_mlops.package_probe import path_fingerprint


def install(site: Path, name: str, version: str) -> Path:
    """What pip leaves for a distribution: its metadata directory."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return info


def capture(cache: Path | None) -> tuple[str, dict[str, Any]]:
    env = capture_environment(kernel_name="python3", kernel_python=None, cache_dir=cache)
    return env["packages_cache"], env["packages"]


def test_the_package_list_is_cached_until_a_package_is_installed_upgraded_or_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    old = install(site, "mlops-probe-a", "1.0")
    monkeypatch.syspath_prepend(str(site))
    cache = tmp_path / "cache"

    state, first = capture(cache)
    assert state == "miss" and first["mlops-probe-a"] == "1.0"
    assert capture(cache) == ("hit", first)

    shutil.rmtree(old)  # an upgrade
    install(site, "mlops-probe-a", "2.0")
    state, upgraded = capture(cache)
    assert state == "miss" and upgraded["mlops-probe-a"] == "2.0"

    added = install(site, "mlops-probe-b", "0.1")
    state, installed = capture(cache)
    assert state == "miss" and installed["mlops-probe-b"] == "0.1"

    shutil.rmtree(added)
    state, removed = capture(cache)
    assert state == "miss" and "mlops-probe-b" not in removed
    assert removed == upgraded
    assert capture(cache) == ("hit", removed)
    assert capture(None) == ("disabled", removed)  # no cache directory: probed each time


def test_a_directory_without_installed_packages_is_not_part_of_the_key(tmp_path: Path) -> None:
    """A runner starts in its run's directory, which is on its ``sys.path`` and differs for
    every run: it must not make each run miss the cache."""
    plain, site = tmp_path / "run-dir", tmp_path / "lib" / "site-packages"
    plain.mkdir()
    site.mkdir(parents=True)
    (plain / "notebook.ipynb").write_text("{}")
    keyed = [entry for entry, _, _ in path_fingerprint([str(plain), str(site)])]
    assert keyed == [str(site)]
    install(plain, "stray", "1")
    assert [e for e, _, _ in path_fingerprint([str(plain)])] == [str(plain)]
