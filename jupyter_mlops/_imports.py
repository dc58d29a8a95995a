"""Keep short-lived processes (CLI, runners) from paying for imports they never use."""

from __future__ import annotations

import sys

UNCHECKED_FORMAT_MODULES = (
    "rfc3987_syntax",  # iri, iri-reference: dozens of Lark grammars, 1-2 s
    "rfc3986_validator",  # uri, uri-reference
    "rfc3339_validator",  # date-time
    "isoduration",  # duration (imports arrow and dateutil)
    "uri_template",  # uri-template
    "webcolors",  # color
    "fqdn",  # hostname
)
"""jsonschema's optional format checkers that ``jsonschema[format-nongpl]`` (pulled in by
jupyter-events) makes every ``import jsonschema`` load. Each is used only to check its own
format, never by anything else these processes import (``idna`` and ``jsonpointer`` are, so
they are left alone)."""


def skip_slow_jsonschema_formats() -> None:
    """Skip jsonschema's format checkers, about half of ``import nbformat`` (0.3-2 s).

    Notebook validation never checks formats (nbformat passes no format checker), so a CLI
    or runner process marks these modules unavailable before jsonschema is first imported,
    and jsonschema leaves those formats unchecked. A process that already imported
    jsonschema (the server) is left alone.
    """
    if "jsonschema" not in sys.modules:
        for name in UNCHECKED_FORMAT_MODULES:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
