"""``jupyter mlops kernels``: the kernels a run can use, and which of them can use CUDA.

The command-line twin of the kernel list in the Run-as-job dialog (``GET kernels``):
for a server without a browser, or to check a GPU node before scheduling on it.
"""

from __future__ import annotations

import json
from typing import Any

from traitlets import Bool

from .cli import _JSON_FLAG, EXIT_OK, MLOpsBaseApp


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


class KernelsApp(MLOpsBaseApp):
    name = "jupyter-mlops-kernels"
    description = (
        "List the installed kernels and whether each can use CUDA (torch in the kernel's "
        "own Python; probed once per kernel and cached), and the GPUs of this machine."
    )
    flags = {
        **_JSON_FLAG,
        "refresh": (
            {"KernelsApp": {"refresh": True}},
            "Probe every kernel again instead of using the cache.",
        ),
    }

    refresh = Bool(False, help="Probe every kernel again.").tag(config=True)

    def run(self) -> int:
        from .kernels import kernel_inventory

        settings = self.settings
        inventory = kernel_inventory(
            cache_dir=settings.cache_dir,
            gpu_inventory=settings.gpu_inventory,
            refresh=self.refresh,
        )
        if self.json_output:
            print(json.dumps(inventory, indent=2))
            return EXIT_OK
        rows = [
            [
                k["name"] + (" (default)" if k["name"] == inventory["default_kernel"] else ""),
                k["display_name"],
                k["language"],
                describe_cuda(k["cuda"]),
            ]
            for k in inventory["kernels"]
        ]
        headers = ["NAME", "DISPLAY NAME", "LANGUAGE", "CUDA"]
        widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
        for line in [headers, *rows]:
            print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
        gpus = inventory["gpus"]
        if gpus:
            names = ", ".join(f"{g['index']}: {g['name']}" for g in gpus)
            print(f"\nGPUs on this machine: {names}")
        else:
            print("\nNo GPU detected on this machine.")
        return EXIT_OK
