"""The executed notebook's HTML in JupyterLab's dark theme, for a dark JupyterLab.

The HTML is rendered once per run, in nbconvert's light ``lab`` theme, whose colours are
JupyterLab's CSS variables. nbconvert ships the dark values of the same variables
(``lab/static/theme-dark.css``); appended to the page they win, so the page follows a
dark JupyterLab without rendering it twice. The bytes added are the same for every page,
so the page is still streamed, never read whole.
"""

from __future__ import annotations

import functools
from pathlib import Path

THEMES = ("light", "dark")


@functools.cache
def dark_theme_suffix() -> bytes:
    """A ``<style>`` of nbconvert's dark lab theme (empty when nbconvert's templates are
    not found: the page stays light, which is still readable)."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbconvert", "templates", "lab", "static"):
        css = Path(base) / "theme-dark.css"
        if css.is_file():
            text = css.read_text(encoding="utf-8").replace("</", "<\\/")
            page = (
                "body{background:var(--jp-layout-color0);color:var(--jp-ui-font-color0);"
                "color-scheme:dark}"
            )
            return f"\n<style>{text}\n{page}</style>\n".encode()
    return b""
