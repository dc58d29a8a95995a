"""Write (or ``--check``) ``pipeline.schema.json`` from :mod:`.spec`'s models, like the
OpenAPI generator: CI fails when the committed schema is stale."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .spec import json_schema

SCHEMA_FILE = Path(__file__).with_name("pipeline.schema.json")


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.is_file() else ""
        if current != text:
            print(
                f"{args.output} is stale: run python -m jupyter_mlops.pipelines.schema",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
