"""``jupyter mlops kernels``: the kernels a run can use, and which of them can use CUDA.

The command-line twin of the kernel list in the Run-as-job dialog (``GET kernels``):
for a server without a browser, or to check a GPU node before scheduling on it.
"""

from __future__ import annotations

from traitlets import Bool

from .base import JSON_FLAG, MLOpsBaseApp
from .text import format_kernels


class KernelsApp(MLOpsBaseApp):
    name = "jupyter-mlops-kernels"
    description = (
        "List the installed kernels and whether each can use CUDA (torch in the kernel's "
        "own Python; probed once per kernel and cached), and the GPUs of this machine."
    )
    flags = {
        **JSON_FLAG,
        "refresh": (
            {"KernelsApp": {"refresh": True}},
            "Probe every kernel again instead of using the cache.",
        ),
    }

    refresh = Bool(False, help="Probe every kernel again.").tag(config=True)

    def run(self) -> int:
        from ..kernels import kernel_inventory

        settings = self.settings
        inventory = kernel_inventory(
            cache_dir=settings.cache_dir,
            gpu_inventory=settings.gpu_inventory,
            refresh=self.refresh,
        )
        return self.print_result(inventory, format_kernels)
