"""``jupyter mlops hooks install | uninstall``: git hooks that wake the trigger watchers.

On-commit triggers poll their branch every two seconds; with the hooks a commit (or a
merge, a pull) is seen at once. The hook only touches the wake file in the data directory
(a few milliseconds, no Python): the watchers in every scheduler notice it on their next
quarter-second look. An existing hook is kept: our lines go between markers, appended,
and ``uninstall`` removes exactly those lines.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from traitlets import Unicode

from .base import EXIT_OK, CommandGroupApp, MLOpsBaseApp, fail

HOOKS = ("post-commit", "post-merge", "post-rewrite")
BEGIN = "# >>> jupyter-mlops: wake the trigger watchers >>>"
END = "# <<< jupyter-mlops <<<"


def hooks_dir(repo: Path) -> Path:
    """Where git runs this repository's hooks (``core.hooksPath`` honoured)."""
    from ..gitcmd import GitError, git_output

    try:
        found = Path(git_output(["rev-parse", "--git-path", "hooks"], cwd=repo))
    except GitError as err:
        fail(f"{repo} is not a git repository: {err}")
    return found if found.is_absolute() else (repo / found).absolute()


def _block(wake_file: Path) -> str:
    folder, path = shlex.quote(str(wake_file.parent)), shlex.quote(str(wake_file))
    return f"{BEGIN}\n( mkdir -p {folder} && touch {path} ) 2>/dev/null || true\n{END}\n"


def _without_block(text: str) -> str:
    if BEGIN not in text:
        return text
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head.rstrip("\n") + ("\n" if head.strip() else "") + tail.lstrip("\n")


class HooksBaseApp(MLOpsBaseApp):
    aliases = {**MLOpsBaseApp.aliases, "repo": "HooksBaseApp.repo"}
    repo = Unicode(".", help="The repository (default: the current directory).").tag(config=True)

    def hook_paths(self) -> list[Path]:
        if self.extra_args:
            fail(f"unexpected arguments: {self.extra_args}")
        directory = hooks_dir(Path(self.repo).expanduser())
        directory.mkdir(parents=True, exist_ok=True)
        return [directory / name for name in HOOKS]


class HooksInstallApp(HooksBaseApp):
    name = "jupyter-mlops-hooks-install"
    description = "Install post-commit/post-merge/post-rewrite hooks that wake the triggers."

    def run(self) -> int:
        from ..scheduling.triggers import wake_file_for

        block = _block(wake_file_for(self.settings.data_dir))
        for hook in self.hook_paths():
            text = hook.read_text(encoding="utf-8") if hook.exists() else "#!/bin/sh\n"
            text = _without_block(text)
            hook.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
            hook.chmod(hook.stat().st_mode | 0o111)
            print(f"installed {hook}")
        return EXIT_OK


class HooksUninstallApp(HooksBaseApp):
    name = "jupyter-mlops-hooks-uninstall"
    description = "Remove the lines jupyter-mlops added to the repository's hooks."

    def run(self) -> int:
        for hook in self.hook_paths():
            if not hook.exists():
                continue
            text = _without_block(hook.read_text(encoding="utf-8"))
            if text.strip() in ("", "#!/bin/sh"):
                os.remove(hook)
            else:
                hook.write_text(text, encoding="utf-8")
            print(f"removed jupyter-mlops from {hook}")
        return EXIT_OK


class HooksApp(CommandGroupApp):
    name = "jupyter-mlops-hooks"
    description = "Git hooks that make on-commit triggers fire at once: install, uninstall."
    subcommands = {
        "install": (HooksInstallApp, "Install the hooks in a repository."),
        "uninstall": (HooksUninstallApp, "Remove them."),
    }
