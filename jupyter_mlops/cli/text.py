"""How ``jupyter mlops`` prints things for people: aligned tables, a run's detail, kernels,
schedules. Every command's ``--json`` prints the same data for programs instead."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def columns(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The header line and one line per row, every column as wide as its widest cell."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    return [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True))
        for line in [headers, *rows]
    ]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> str:
    """:func:`columns` as one text, or the header and ``empty`` when there are no rows."""
    lines = columns(headers, rows)
    return "\n".join(lines) if rows else lines[0] + "\n" + empty


# ----------------------------------------------------------------------------------- runs


def format_runs(rows: list[dict[str, Any]]) -> str:
    """``jupyter mlops runs``: one line per run summary."""
    headers = ["ID", "STATUS", "NOTEBOOK", "CREATED", "DURATION", "CELLS", "TAGS", "PARAMETERS"]
    lines = []
    for r in rows:
        given = set(r.get("overridden", r["parameters"]))  # the list: what was typed
        params = ", ".join(f"{k}={json.dumps(v)}" for k, v in r["parameters"].items() if k in given)
        status = r["status"]
        if r.get("queue_position"):
            status += f" #{r['queue_position']}"
        lines.append(
            [
                r["id"],
                status,
                r["notebook"],
                (r["created_at"] or "")[:19].replace("T", " "),
                f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "",
                f"{r['cells_done']}/{r['cells_total'] or '?'}",
                ",".join(r["tags"]),
                params[:60],
            ]
        )
    return table(headers, lines, "(no runs)")


def _dirty_files(snap: dict[str, Any]) -> list[str]:
    """The uncommitted files of a snapshot, one line each (the recorded list is bounded)."""
    files = snap.get("dirty_files") or []
    lines = [f"  uncommitted {name}" for name in files]
    more = (snap.get("dirty_count") or 0) - len(files)
    if more > 0:
        lines.append(f"  ... and {more} more uncommitted files")
    return lines


def format_run_detail(d: dict[str, Any]) -> str:
    """``jupyter mlops show``: everything about one run, from its ``run_detail`` dict."""
    snap = d["snapshot"]
    out = [
        f"run        {d['id']}",
        f"status     {d['status']}"
        + (f" (position {d['queue_position']} in the queue)" if d.get("queue_position") else "")
        + (f" ({d['status_reason']})" if d["status_reason"] else ""),
        f"notebook   {d['notebook']}",
        f"submitted  by {d.get('submitted_by') or '-'} ({d['source']})",
        f"kernel     {d['kernel']}",
        f"seed       {d['seed']}",
        f"gpus       {d['gpus']} (CUDA_VISIBLE_DEVICES={d['cuda_visible_devices'] or ''!s})",
        f"runner     {d['runner']['backend']} on {d['runner']['host'] or '-'}"
        f" pid {d['runner']['pid'] or '-'}",
        f"timeout    {d['timeout_s'] or 'none'}",
        f"created    {d['created_at']}",
        f"started    {d['started_at'] or '-'}",
        f"finished   {d['finished_at'] or '-'}",
        f"duration   {d['duration_s']:.2f}s" if d["duration_s"] is not None else "duration   -",
        f"progress   {d['cells_done']}/{d['cells_total'] or '?'} cells",
        f"commit     {snap['commit']} ({snap['ref']})",
        f"branch     {snap['branch'] or '-'}  base {snap['base_commit'] or '-'}"
        f"  dirty {snap['dirty']}  private repo {snap['private_repo']}",
        *_dirty_files(snap),
        f"tags       {', '.join(d['tags']) or '-'}",
    ]
    if d["reproduced_from"]:
        out.append(f"reproduces {d['reproduced_from']}")
    if d.get("fired_by"):
        out.append(d["fired_by"])
    out.append("parameters (* given for this run, the others the notebook's defaults)")
    given = set(d.get("overridden", d["parameters"]))
    for name, value in d["parameters"].items():
        mark = "*" if name in given else " "
        out.append(f"{mark} {name} = {json.dumps(value)}  ({d['parameter_types'].get(name)})")
    if d.get("warnings"):
        out.append("warnings")
        out += [f"  ! {w}" for w in d["warnings"]]
    if d["error"]:
        err = d["error"]
        where = (
            f"In [{err['execution_count']}]"
            if err.get("execution_count") is not None
            else f"cell {err['cell_index']}"
        )
        out.append(f"error      {where}: {err['ename']}: {err['evalue']}")
        if err["traceback"]:
            out += ["  " + line for line in err["traceback"].splitlines()[-15:]]
    out.append("status history")
    for e in d["status_history"]:
        out.append(f"  {e['at']}  {e['status']}" + (f"  {e['message']}" if e["message"] else ""))
    if d["cells"]:
        out.append("cell timings")
        for e in d["cells"]:
            out.append(f"  cell {e['cell_index']:>4}  {e['duration_s']:.3f}s  {e['status']}")
    if d["metrics"]:
        out.append("metrics")
        for key, value in sorted(d["metrics"].items()):
            out.append(f"  {key} = {value}")
    if d.get("inputs"):
        out.append("inputs")
        for i in d["inputs"]:
            rows = (i.get("stats") or {}).get("rows")
            out.append(
                f"  {i['name']:<20} {i['uri']}  {i['size']:>10} B  sha256 {i['sha256'][:16]}"
                + (f"  {rows} rows" if rows is not None else "")
            )
    out.append("artifacts")
    for a in d["artifacts"]:
        out.append(f"  {a['name']:<20} {a['kind']:<9} {a['size']:>10} B  sha256 {a['sha256'][:16]}")
    from .verify_text import format_reproducibility

    out += format_reproducibility(d)
    env = d["environment"] or {}
    out.append("environment")
    out += format_environment(env)
    return "\n".join(out)


def format_environment(env: dict[str, Any]) -> list[str]:
    """The captured environment, one line per part (packages only counted)."""
    if not env:
        return ["  (not captured yet)"]
    if "error" in env and len(env) == 1:
        return [f"  error: {env['error']}"]
    lines = []
    python = env.get("python") or {}
    if python:
        lines.append(f"  python     {python.get('version')} ({python.get('executable')})")
    platform = env.get("platform") or {}
    if platform:
        lines.append(f"  platform   {platform.get('platform') or platform}")
    if env.get("hostname"):
        lines.append(f"  host       {env['hostname']}")
    kernel = env.get("kernel") or {}
    if kernel:
        lines.append(f"  kernel     {kernel.get('name')} ({kernel.get('python')})")
    torch = env.get("torch")
    if torch:
        lines.append(f"  torch      {json.dumps(torch)[:200]}")
    gpus = env.get("gpus")
    if gpus is not None:
        lines.append(f"  gpus       {json.dumps(gpus)[:200]}")
    kernel_cuda = env.get("kernel_cuda")
    if kernel_cuda:
        lines.append(f"  used CUDA  {json.dumps(kernel_cuda)[:200]}")
    packages = env.get("packages") or {}
    if packages:
        lines.append(f"  packages   {len(packages)} installed (--json lists them)")
    return lines


# -------------------------------------------------------------------------------- kernels


def describe_cuda(cuda: dict[str, Any] | None) -> str:
    """One cell of the table: what torch in the kernel's Python says about CUDA."""
    if cuda is None:
        return "-"  # not a Python kernel, or its interpreter is unknown
    if cuda.get("error"):
        return f"unknown ({cuda['error'][:60]})"
    if not cuda.get("torch"):
        return "no torch"
    if not cuda.get("cuda"):
        return f"no (torch {cuda['torch']})"
    devices = ", ".join(d["name"] for d in cuda.get("devices") or [])
    return f"yes: {devices} (torch {cuda['torch']}, CUDA {cuda.get('cuda_version') or '?'})"


def format_kernels(inventory: dict[str, Any]) -> str:
    """``jupyter mlops kernels``: the kernels (which can use CUDA), then this machine's GPUs."""
    rows = [
        [
            k["name"] + (" (default)" if k["name"] == inventory["default_kernel"] else ""),
            k["display_name"],
            k["language"],
            describe_cuda(k["cuda"]),
        ]
        for k in inventory["kernels"]
    ]
    lines = [line.rstrip() for line in columns(["NAME", "DISPLAY NAME", "LANGUAGE", "CUDA"], rows)]
    gpus = inventory["gpus"]
    if gpus:
        names = ", ".join(f"{g['index']}: {g['name']}" for g in gpus)
        lines.append(f"\nGPUs on this machine: {names}")
    else:
        lines.append("\nNo GPU detected on this machine.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ schedules


def local_time(value: str | None, tz: str) -> str:
    """An ISO timestamp as wall-clock time in the schedule's zone (``-`` for none)."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(tz))
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def target_text(target: str | None, path: str) -> str:
    """What a schedule or trigger fires: a notebook's path, or ``pipeline PATH``."""
    return f"pipeline {path}" if target == "pipeline" else path


def format_schedules(rows: list[dict[str, Any]]) -> str:
    """``jupyter mlops schedule list``: one line per schedule."""
    headers = [
        "ID",
        "NAME",
        "TARGET",
        "STATE",
        "CRON",
        "TZ",
        "SOURCE",
        "NEXT",
        "LAST RUN",
        "STATUS",
    ]
    lines = [
        [
            r["id"],
            r["name"],
            target_text(r.get("target"), r["notebook"]),
            "active" if r["active"] else "paused",
            r["cron"],
            r["timezone"],
            f"branch {r['branch']}" if r["branch"] else "working copy",
            local_time(r["next_fire_at"], r["timezone"]),
            r["last_run_id"] or "-",
            r["last_run_status"] or "-",
        ]
        for r in rows
    ]
    return table(headers, lines, "(no schedules)")


def format_schedule_detail(d: dict[str, Any]) -> str:
    """``jupyter mlops schedule show``: settings, next fire times, recent slots and runs."""
    tz = d["timezone"]
    out = [
        f"schedule     {d['id']} ({d['name']})",
        f"state        {'active' if d['active'] else 'paused'}",
        f"{'pipeline' if d.get('target') == 'pipeline' else 'notebook':<12} {d['notebook']}",
        f"source       {'branch ' + d['branch'] if d['branch'] else 'working copy'}",
        f"cron         {d['cron']}  ({tz})",
        f"catch-up     {d['catchup']}"
        + (f" (at most {d['max_catchup']})" if d["catchup"] == "all" else ""),
        f"concurrency  {d['concurrency']}",
        "steps        kernel, gpus, timeout as in the pipeline file"
        if d.get("target") == "pipeline"
        else f"kernel       {d['kernel'] or '(notebook default)'}  gpus {d['gpus']}  "
        f"timeout {d['timeout_s'] or 'none'}",
        f"tags         {', '.join(d['tags']) or '-'}",
        f"last run     {d['last_run_id'] or '-'} ({d['last_run_status'] or '-'})",
        "parameters",
        *(f"  {k} = {json.dumps(v)}" for k, v in d["parameters"].items()),
        "next fire times" if d["active"] else "fire times (when resumed)",
        *(f"  {local_time(t, tz)}" for t in d["upcoming"]),
        "recent slots",
    ]
    for f in d["fires"]:
        line = f"  {local_time(f['slot'], tz)}  {f['state']:<8} {f['run_id'] or '-':<12}"
        line += f" {f['run_status'] or ''}"
        if f["reason"]:
            line += f"  {f['reason']}"
        out.append(line)
    if not d["fires"]:
        out.append("  (none yet)")
    return "\n".join(out)
