"""Keep short-lived processes (CLI, runners) from paying for imports they never use."""

from __future__ import annotations

import sys


def skip_slow_jsonschema_formats() -> None:
    """Skip jsonschema's IRI format parsers, which cost 1-2 s at import.

    ``jsonschema[format-nongpl]`` (pulled in by jupyter-events) makes ``import
    jsonschema`` build dozens of Lark grammars from ``rfc3987_syntax``. Notebook
    validation never checks the ``iri`` format, so a CLI or runner process marks that
    module unavailable before jsonschema is first imported, and jsonschema leaves the
    format unchecked. A process that already imported jsonschema (the server) is left
    alone.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
