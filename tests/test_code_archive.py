"""The code archive a Dask run carries: the same files a local checkout gives."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from jupyter_mlops.code_archive import build_archive, extract_archive
from jupyter_mlops.snapshot.reading import materialize

from .conftest import git, init_repo


def tree_of(root: Path) -> dict[str, tuple[str, int]]:
    """path -> (content or link target, mode bits) of everything under ``root``."""
    out: dict[str, tuple[str, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = ("-> " + os.readlink(path), 0)
        elif path.is_file():
            out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode & 0o111)
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "train.ipynb").write_text('{"cells": []}')
    (root / "pkg" / "model.py").write_text("LAYERS = 3\n")
    script = root / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (root / "latest.py").symlink_to("pkg/model.py")
    init_repo(root)
    return root


def test_archive_holds_what_a_checkout_gives_and_is_reproducible(
    repo: Path, tmp_path: Path
) -> None:
    commit = git(repo, "rev-parse", "HEAD").strip()
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    build_archive(str(repo / ".git"), commit, first)
    build_archive(str(repo / ".git"), commit, second)
    assert first.read_bytes() == second.read_bytes()  # one blob per commit

    checkout, unpacked = tmp_path / "checkout", tmp_path / "unpacked"
    materialize(str(repo / ".git"), commit, checkout)
    extract_archive(first, unpacked)
    assert tree_of(unpacked) == tree_of(checkout)
    assert tree_of(unpacked)["run.sh"][1] != 0  # still executable
    assert tree_of(unpacked)["latest.py"] == ("-> pkg/model.py", 0)


def test_extraction_refuses_paths_out_of_the_destination(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w") as tar:
        tar.add(payload, arcname="../escaped.txt")
    with pytest.raises(tarfile.TarError):
        extract_archive(evil, tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists()
