"""Git snapshots of a notebook's project that never disturb the user.

A run executes a *snapshot*, not the live file: editing the notebook while the run executes
changes nothing, and "reproduce" means running the very same commit again. The snapshot is a
real git commit so it is content-addressed, deduplicated, diffable and pushable, but it must
be taken without touching anything the user can see:

* no checkout, stash, reset, or write to the user's index, HEAD, branches or working tree;
* only plumbing (``add`` into a *temporary* index, ``write-tree``, ``commit-tree``,
  ``update-ref``), so no hooks run and nothing prompts;
* the commit is kept alive by ``refs/mlops/runs/<run_id>`` (not a branch, so it never shows
  up in ``git branch`` but can be pushed on purpose).

A notebook outside any git repository is snapshotted into a private repository (normally in
the jupyter-mlops data directory), with the notebook's directory as its work tree.

Committing the notebook to the user's current branch is a separate, explicit operation
(:func:`~jupyter_mlops.snapshot.branches.commit_notebook_to_branch`), never a side effect of a
snapshot.

The modules, one job each:

* :mod:`.plumbing`: :class:`SnapshotError`, the safety settings of every git call, finding the
  repository of a path and the identity its commits carry;
* :mod:`.refs`: the ``refs/mlops/...`` refs that keep snapshots alive (create, link, delete);
* :mod:`.create`: taking a snapshot of what is on disk (:func:`take_snapshot`);
* :mod:`.branches`: what is committed on a branch (GitOps schedules), and the explicit
  commit of a notebook to the current branch;
* :mod:`.reading`: getting a snapshot back out: the whole tree into a run directory, or one
  file's bytes;
* :mod:`.diffing`: what changed in the code between two runs' snapshots.
"""
