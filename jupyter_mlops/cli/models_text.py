"""How ``jupyter mlops models ...`` prints for people (the ``--json`` views, as text)."""

from __future__ import annotations

from typing import Any

from .text import table


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"@{a}={v}" for a, v in aliases.items()) or "-"


def format_models(rows: list[dict[str, Any]]) -> str:
    headers = ["NAME", "VERSIONS", "LATEST", "ALIASES", "POLICY"]
    lines = [
        [
            r["name"],
            r["version_count"],
            r["latest_version"] or "-",
            _aliases(r["aliases"]),
            "yes" if r["policy"] else "-",
        ]
        for r in rows
    ]
    return table(headers, lines, "(no registered models)")


def _value(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def format_model(d: dict[str, Any]) -> str:
    """A model and its versions, with the metrics of their runs side by side."""
    out = [
        f"model      {d['name']}",
        f"aliases    {_aliases(d['aliases'])}",
        f"policy     {d['policy'] or '-'}",
        f"created    {d['created_at']} by {d['created_by'] or '-'}",
    ]
    if d["description"]:
        out.append(f"about      {d['description']}")
    keys = sorted({k for v in d["versions"] for k in v["metrics"] if not k.startswith("system/")})
    keys = keys[:8]  # the metrics the runs logged themselves, not system samples
    headers = ["VERSION", "ALIASES", "RUN", "STATUS", "CLASS", "PARAMS", *keys]
    rows = [
        [
            v["version"],
            ", ".join("@" + a for a in v["aliases"]) or "-",
            v["run_id"],
            v["run_status"] or "-",
            v["class_name"].rsplit(".", 1)[-1] or "-",
            _value(v["parameter_count"]),
            *(_value(v["metrics"].get(k)) for k in keys),
        ]
        for v in d["versions"]
    ]
    out.append(table(headers, rows, "(no versions)"))
    return "\n".join(out)


def format_history(d: dict[str, Any]) -> str:
    headers = ["WHEN", "WHO", "ACTION", "VERSION", "ALIAS", "FROM", "REASON"]
    rows = [
        [
            e["at"],
            e["actor"] or "-",
            e["action"],
            _value(e["version"]),
            e["alias"] or "-",
            _value(e["previous_version"]),
            e["reason"] or "",
        ]
        for e in d["events"]
    ]
    return table(headers, rows, "(no events)")


def format_promotion(p: dict[str, Any]) -> str:
    out = [f"{p['model']} version {p['version']} -> @{p['alias']}: {p['state']}"]
    if p["previous_version"] is not None:
        out.append(f"  checked against version {p['previous_version']}")
    if p["candidate_run"]:
        out.append(f"  validation run (candidate) {p['candidate_run']}")
    if p["baseline_run"]:
        out.append(f"  validation run (baseline)  {p['baseline_run']}")
    for v in p["verdicts"]:
        out.append(f"  {'ok  ' if v['holds'] else 'FAIL'} {v['message']}")
    if p["state"] == "pending":
        out.append("  the alias moves when both runs end and their metrics meet the requirements")
    else:
        out.append(f"  {p['message']}")
    return "\n".join(out)
