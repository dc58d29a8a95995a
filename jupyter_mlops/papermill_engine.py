"""A papermill engine that reports progress to the run store instead of re-saving.

papermill's default engine writes the whole output notebook before and after every
cell (tens of milliseconds per cell on large notebooks). This engine keeps
papermill's parameterization and nbclient execution, but its execution manager only
records "cell i started/finished" through the runner's reporter, saves the notebook
at most every ``autosave_seconds`` (so a long run still has a recent copy), and tells
the runner the kernel's pid so cancel and timeout can kill its process tree.

The question which CUDA device the kernel used (answered only when the notebook imported
torch; CUDA is never initialized by the question itself), so the run's environment record
names the GPU the code actually ran on (and whether torch's deterministic algorithms and
cuDNN's deterministic/benchmark modes were on at the end), rides on the last code cell's
own execute request as a user expression: no extra round trip on the run's critical path.
Only when that cell did not complete (a failing cell stops the notebook earlier) is it asked
on its own after the cells, while the kernel still runs. The notebook is written once, by
papermill at the end (and by the autosave of long runs), never again by the execution
manager's final sync.
"""

from __future__ import annotations

import ast
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from jupyter_core.utils import ensure_async
from nbclient.util import run_hook, run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager
from papermill.iorw import write_ipynb

from .kernel_ready import wait_until_ready
from .runner_cells import cell_status

log = logging.getLogger("jupyter_mlops.papermill_engine")

KERNEL_PROBE_TIMEOUT_S = 10.0

# A user expression: evaluated in the kernel after the notebook, without output, history
# or an execution count. Plain Python 3 for any kernel; imports nothing the notebook did
# not import, and never initializes CUDA (``is_initialized`` first).
CUDA_PROBE_EXPRESSION = (
    "(lambda sys, os, json: json.dumps("
    "(lambda t: {'torch_imported': False} if t is None else (lambda c: {"
    "'torch_imported': True, 'torch_version': str(t.__version__), "
    "'cuda_initialized': bool(c.is_initialized()), "
    "'device_count': c.device_count() if c.is_initialized() else None, "
    "'device': c.current_device() if c.is_initialized() else None, "
    "'device_name': c.get_device_name(c.current_device()) if c.is_initialized() else None, "
    "'max_memory_allocated': int(c.max_memory_allocated()) if c.is_initialized() else None, "
    "'cuda_visible_devices': os.environ.get('CUDA_VISIBLE_DEVICES'), "
    "'deterministic_algorithms': bool(t.are_deterministic_algorithms_enabled()), "
    "'cudnn_deterministic': getattr(getattr(t.backends, 'cudnn', None), 'deterministic', None), "
    "'cudnn_benchmark': getattr(getattr(t.backends, 'cudnn', None), 'benchmark', None)"
    "})(t.cuda))(sys.modules.get('torch'))))"
    "(__import__('sys'), __import__('os'), __import__('json'))"
)


def physical_device(info: dict[str, Any]) -> str | None:
    """The machine's device behind the kernel's current CUDA device (CUDA_VISIBLE_DEVICES
    maps ``cuda:i`` to its i-th entry)."""
    device = info.get("device")
    if device is None:
        return None
    visible = [v.strip() for v in (info.get("cuda_visible_devices") or "").split(",")]
    visible = [v for v in visible if v]
    if not visible:
        return str(device)
    return visible[device] if 0 <= device < len(visible) else None


def parse_probe_reply(reply: Any) -> dict[str, Any]:
    content = (reply or {}).get("content", {})
    result = (content.get("user_expressions") or {}).get("mlops_cuda") or {}
    if result.get("status") != "ok":
        return {"error": f"{result.get('ename', 'no reply')}: {result.get('evalue', '')}".strip()}
    text = result.get("data", {}).get("text/plain", "")
    info = json.loads(ast.literal_eval(text))
    if info.get("cuda_initialized"):
        info["physical_device"] = physical_device(info)
    return info


def read_secrets_from_environment(kernel_name: str, language: str | None) -> None:
    """Make papermill write each secret parameter (a
    :class:`~jupyter_mlops.masking.SecretFromEnv`) into the injected cell as a read of the
    kernel's environment instead of its value.

    The translator papermill would use for this kernel is extended and registered under the
    kernel's name, which papermill looks up first (this process runs one run only). Only
    Python kernels know the expression; another language is refused rather than given the
    value in the clear.
    """
    from papermill.translators import PythonTranslator, papermill_translators

    from .masking import SecretFromEnv, kernel_expression

    base = papermill_translators.find_translator(kernel_name, language or "python")
    if not issubclass(base, PythonTranslator):
        raise ValueError(
            f"secret parameters can be passed only to Python kernels, not to {kernel_name!r} "
            f"({language}): the value would have to be written into the notebook"
        )

    class SecretAwareTranslator(base):  # type: ignore[misc, valid-type]
        @classmethod
        def translate_str(cls, val: Any) -> str:
            if isinstance(val, SecretFromEnv):
                return kernel_expression(val)
            return str(super().translate_str(val))

    papermill_translators.register(kernel_name, SecretAwareTranslator)


def _last_executed_cell(nb: Any) -> int | None:
    """The index of the last cell nbclient will send to the kernel (a code cell that is
    not blank), or None when the language is not Python (the question is Python code)."""
    language = (nb.metadata.get("kernelspec", {}).get("language") or "python").lower()
    if language != "python":
        return None
    indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    return indices[-1] if indices else None


class Reporter(Protocol):
    def cell_started(self, index: int) -> None: ...
    def cell_finished(self, index: int, started: float, status: str) -> None: ...


def make_engine(
    *,
    output_path: Path,
    reporter: Reporter,
    on_kernel_started: Callable[[int | None], None],
    on_nb: Callable[[Any], None],
    on_cell: Callable[[int | None], None],
    autosave_seconds: float,
    on_kernel_probe: Callable[[dict[str, Any]], None] | None = None,
    kernel_manager: Any = None,
    on_cells_done: Callable[[], None] | None = None,
    on_output: Callable[[int | None, Any], None] | None = None,
) -> type[NBClientEngine]:
    """Build an engine class bound to one run's callbacks (papermill wants a class).

    With ``kernel_manager`` (an ``AsyncKernelManager`` whose kernel the runner already
    started), the client connects to that kernel and shuts it down at the end, as it
    would one it started itself. ``on_cells_done`` is called after the last cell, while
    the kernel still runs. ``on_output`` gets each output a cell produces, as it arrives
    (the live output).
    """

    class RunExecutionManager(NotebookExecutionManager):  # type: ignore[misc]
        def __init__(self, nb: Any, **kwargs: Any) -> None:
            super().__init__(nb, **kwargs)
            self._started: dict[int, float] = {}
            self._last_save = time.monotonic()
            on_nb(self.nb)

        def save(self, **kwargs: Any) -> None:
            if time.monotonic() - self._last_save >= autosave_seconds:
                self.force_save()

        def force_save(self) -> None:
            write_ipynb(self.nb, str(output_path))
            self._last_save = time.monotonic()

        def autosave_cell(self) -> None:
            self.save()

        def notebook_complete(self, **kwargs: Any) -> None:
            self._last_save = time.monotonic()  # papermill writes the notebook right after
            super().notebook_complete(**kwargs)

        def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
            super().cell_start(cell, cell_index, **kwargs)
            if cell.cell_type == "code" and cell_index is not None:
                self._started[cell_index] = time.monotonic()
                on_cell(cell_index)
                reporter.cell_started(cell_index)

        def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
            super().cell_complete(cell, cell_index, **kwargs)
            if cell_index is not None and cell_index in self._started:
                failed = cell.metadata.papermill.get("status") == self.FAILED
                status = cell_status(cell, failed)
                reporter.cell_finished(cell_index, self._started.pop(cell_index), status)

    class RunNotebookClient(PapermillNotebookClient):  # type: ignore[misc]
        async def async_start_new_kernel(self, **kwargs: Any) -> None:
            await super().async_start_new_kernel(**kwargs)
            provisioner = getattr(self.km, "provisioner", None)
            on_kernel_started(getattr(provisioner, "pid", None))

        start_new_kernel = run_sync(async_start_new_kernel)

        async def async_start_new_kernel_client(self) -> Any:
            """nbclient's, with the kernel's readiness read from its own answer instead of
            0.2 s of IOPub silence (:mod:`jupyter_mlops.kernel_ready`)."""
            assert self.km is not None
            try:
                self.kc = self.km.client()
                await ensure_async(self.kc.start_channels())
                await wait_until_ready(self.kc, self.startup_timeout)
            except Exception as err:
                self.log.error("kernel client for kernel %s did not start: %s", self.km, err)
                await self._async_cleanup_kernel()
                raise
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        def process_message(self, msg: Any, cell: Any, cell_index: int) -> Any:
            output = super().process_message(msg, cell, cell_index)
            if output is not None and on_output is not None:
                on_output(cell_index, output)
            return output

        def papermill_execute_cells(self) -> None:
            self._probe_reply: Any = None
            self._probe_cell = _last_executed_cell(self.nb) if on_kernel_probe else None
            if self._probe_cell is not None:
                self.on_cell_executed = self._keep_probe_reply
            super().papermill_execute_cells()  # a failing cell returns; a dead kernel raises
            if on_cells_done is not None:
                on_cells_done()
            if on_kernel_probe is not None:
                answered = parse_probe_reply(self._probe_reply) if self._probe_reply else None
                if answered is not None and "error" not in answered:
                    on_kernel_probe(answered)
                else:
                    self._probe_kernel()

        async def async_execute_cell(
            self, cell: Any, cell_index: int, *args: Any, **kwargs: Any
        ) -> Any:
            if cell_index != getattr(self, "_probe_cell", None) or self.kc is None:
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            kc = self.kc
            plain = kc.execute

            def execute_and_ask(code: str, *a: Any, **kw: Any) -> Any:
                kw["user_expressions"] = {"mlops_cuda": CUDA_PROBE_EXPRESSION}
                return plain(code, *a, **kw)

            kc.execute = execute_and_ask  # this cell's request only
            try:
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            finally:
                del kc.execute

        execute_cell = run_sync(async_execute_cell)

        def _keep_probe_reply(self, cell: Any, cell_index: int, execute_reply: Any) -> None:
            if cell_index == self._probe_cell:
                self._probe_reply = execute_reply

        def _probe_kernel(self) -> None:
            """Ask the still-running kernel which CUDA device it used (best effort)."""
            assert on_kernel_probe is not None
            saved = self.timeout
            try:
                spec = getattr(self.km, "kernel_spec", None)
                if (
                    self.kc is None
                    or (getattr(spec, "language", "") or "python").lower() != "python"
                ):
                    return  # the question is Python code
                self.timeout = KERNEL_PROBE_TIMEOUT_S
                msg_id = self.kc.execute(
                    "",
                    silent=True,
                    store_history=False,
                    user_expressions={"mlops_cuda": CUDA_PROBE_EXPRESSION},
                )
                on_kernel_probe(parse_probe_reply(self.wait_for_reply(msg_id)))
            except Exception as err:  # a dead or busy kernel: nothing to record
                log.info("kernel CUDA probe failed: %s", err)
            finally:
                self.timeout = saved

    class RunEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_notebook(
            cls,
            nb: Any,
            kernel_name: str,
            output_path: str | None = None,
            progress_bar: bool = False,
            log_output: bool = False,
            autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:
            nb_man = RunExecutionManager(
                nb, output_path=None, progress_bar=False, log_output=log_output
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            start_timeout: int = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs.pop("input_path", None)
            kwargs.pop("timeout", None)
            kwargs.pop("startup_timeout", None)
            client = RunNotebookClient(
                nb_man,
                km=kernel_manager,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                **kwargs,
            )
            return client.execute(cleanup_kc=True)

    return RunEngine
