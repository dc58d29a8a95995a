"""``jupyter mlops lineage RUN_ID|SHA256`` and ``jupyter mlops datasets``: what produced a
result and which runs read which data (see :mod:`jupyter_mlops.lineage`)."""

from __future__ import annotations

from typing import Any

from .base import EXIT_OK, JSON_FLAG, MLOpsBaseApp, fail
from .text import table


def short(sha: str) -> str:
    return sha[:12]


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_run_lineage(d: dict[str, Any]) -> str:
    run = d["run"]
    out = [
        f"run {run['id']}  {run['status']}  {run['notebook']}",
        f"├─ code    commit {run['commit'] or '-'}"
        + (f" (branch {run['branch']})" if run["branch"] else "")
        + (f", reproduces {run['reproduced_from']}" if run["reproduced_from"] else ""),
    ]
    for i in d["inputs"]:
        rows = (i.get("stats") or {}).get("rows")
        out.append(
            f"├─ input   {i['name']}: {i['uri']}  sha256 {short(i['sha256'])}  "
            f"{human_size(i['size'])}" + (f"  {rows} rows" if rows is not None else "")
        )
        for p in i["produced_by"]:
            out.append(f"│    produced by run {p['run_id']} ({p['kind']} {p['artifact']})")
        if i["used_by"]:
            out.append(f"│    same data read by {', '.join(i['used_by'])}")
        others = [v for v in i["versions"] if v["sha256"] != i["sha256"]]
        for v in others:
            out.append(
                f"│    other version sha256 {short(v['sha256'])} read by {', '.join(v['run_ids'])}"
            )
    if not d["inputs"]:
        out.append("├─ input   none recorded (data read without use_dataset?)")
    for o in d["outputs"]:
        used = "".join(f"\n│    read by run {u['run_id']} as {u['name']}" for u in o["used_by"])
        out.append(
            f"├─ output  {o['name']} ({o['kind']})  sha256 {short(o['sha256'])}  "
            f"{human_size(o['size'])}{used}"
        )
    out[-1] = "└" + out[-1][1:]
    return "\n".join(out)


def format_content_lineage(d: dict[str, Any]) -> str:
    out = [f"sha256 {d['sha256']}"]
    out += [
        f"  produced by run {p['run_id']} ({p['kind']} {p['artifact']})" for p in d["produced_by"]
    ]
    out += [f"  read by run {u['run_id']} as {u['name']} ({u['uri']})" for u in d["used_by"]]
    return "\n".join(out)


def format_datasets(d: dict[str, Any]) -> str:
    rows = []
    for ds in d["datasets"]:
        for n, v in enumerate(ds["versions"]):
            rows.append(
                [
                    ds["uri"] if n == 0 else "",
                    short(v["sha256"]),
                    human_size(v["size"]),
                    "" if v["rows"] is None else v["rows"],
                    v["last_used"][:19],
                    ", ".join(v["run_ids"]),
                ]
            )
    return table(["DATASET", "SHA256", "SIZE", "ROWS", "LAST USED", "RUNS"], rows, "(no datasets)")


class LineageApp(MLOpsBaseApp):
    name = "jupyter-mlops-lineage"
    description = (
        "Which data and code produced a run, and who used its outputs; or, for a sha256 (a "
        "dataset version, an artifact, a model), the run that produced it and the runs that "
        "read it. Usage: jupyter mlops lineage RUN_ID|SHA256 [--json]"
    )
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..lineage import UnknownContent, content_lineage, is_sha256, run_lineage

        target = self.one_argument("run id or sha256")
        if is_sha256(target.lower()):
            try:
                data = content_lineage(self.store, target.lower())
            except UnknownContent as err:
                fail(str(err))
            return self.print_result(data, format_content_lineage)
        if len(target) > 32:
            fail(f"{target!r} is neither a run id nor a sha256 (64 hexadecimal digits)")
        return self.print_result(
            run_lineage(self.store, self.resolve_id(target)), format_run_lineage
        )


class DatasetsApp(MLOpsBaseApp):
    name = "jupyter-mlops-datasets"
    description = (
        "Every dataset runs recorded (use_dataset, '# mlops: dataset' parameters), with its "
        "versions (content hashes) and the runs that read each, most recently used first."
    )
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..lineage import known_datasets

        if self.extra_args:
            fail(f"datasets takes no arguments, got {self.extra_args}")
        self.print_result(known_datasets(self.store), format_datasets)
        return EXIT_OK
