"""How ``reproduce --verify`` and ``show`` print a verdict and the reproducibility summary
for people; ``compare``'s input table."""

from __future__ import annotations

from typing import Any


def format_verification(verification: dict[str, Any]) -> str:
    """The verdict for people: the line, the inputs that are not the same, the first
    differing cells with their diff and the differing metrics."""
    if not verification:
        return "no verification recorded"
    lines = [f"verdict: {verification.get('verdict') or 'none'}: {verification.get('summary')}"]
    for check in verification.get("inputs") or []:
        if check.get("status") != "same":
            lines.append(f"  input {check['kind']} {check['name']}: {check['reason']}")
    result = verification.get("result") or {}
    for cell in result.get("cells") or []:
        lines.append(f"  cell {cell['cell_index']}: {cell['outcome']}")
        lines += [f"    {line}" for line in (cell.get("diff") or "").splitlines()]
    for metric in result.get("metrics") or []:
        lines.append(
            f"  metric {metric['key']} step {metric['step']}: {metric['original']} -> "
            f"{metric['reproduction']} ({metric['outcome']}: {metric['why']})"
        )
    for model in result.get("models") or []:
        lines.append(f"  model {model['name']}: {model['original']} -> {model['reproduction']}")
    return "\n".join(lines)


def format_reproducibility(detail: dict[str, Any]) -> list[str]:
    """``show``'s "verification" and "reproducibility" sections."""
    lines = []
    verification = detail.get("verification")
    if verification:
        lines.append(f"verification (against {verification.get('original_id')})")
        lines += ["  " + line for line in format_verification(verification).splitlines()]
    items = detail.get("reproducibility") or []
    if items:
        lines.append("reproducibility")
        for item in items:
            mark = "pinned" if item["pinned"] else "NOT pinned"
            lines.append(f"  {item['item']:<25} {mark:<10}  {item['detail']}")
    return lines


def _digest(side: dict[str, Any] | None) -> str:
    if side is None:
        return "-"
    rows = f", {side['rows']} rows" if side.get("rows") is not None else ""
    return f"{side['sha256'][:12]} ({side['size']} B{rows})"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_comparison(comparison: dict[str, Any]) -> str:
    """``compare``: inputs (with drift per column, '!' above a threshold), parameters and
    metrics of two runs, each side by side."""
    first, second = comparison["first"], comparison["second"]
    lines = [f"compare {first} with {second}", "inputs"]
    if not comparison["inputs"]:
        lines.append("  (neither run recorded inputs)")
    for row in comparison["inputs"]:
        mark = " !" if row["flagged"] else ""
        lines.append(
            f"  {row['name']}: {row['status']}{mark}  "
            f"{_digest(row['first'])}  ->  {_digest(row['second'])}"
        )
        for drift in row.get("drift") or []:
            flag = "!" if drift["flagged"] else " "
            note = f"  {drift['note']}" if drift["note"] else ""
            lines.append(
                f"    {flag} {drift['column']:<20} {drift['type']:<12} "
                f"PSI {_figure(drift['psi'])}  KS {_figure(drift['ks'])}{note}"
            )
    lines.append(
        f"  (! : PSI > {comparison['psi_threshold']:g} or KS > {comparison['ks_threshold']:g})"
    )
    for section in ("parameters", "metrics"):
        rows = comparison.get(section) or []
        if rows:
            lines.append(section)
        for row in rows:
            same = "" if row["first"] == row["second"] else "  (differs)"
            lines.append(f"  {row['name']}: {row['first']!r} | {row['second']!r}{same}")
    return "\n".join(lines)
