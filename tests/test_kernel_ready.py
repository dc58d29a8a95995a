"""``kernel_ready.wait_until_ready`` on a real ipykernel: it returns once the kernel
answered on both channels, with IOPub drained (the next message there is the next
request's), and raises for a kernel that died instead of waiting on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from jupyter_client.manager import KernelManager

from jupyter_mlops.kernel_ready import wait_until_ready


@pytest.fixture
def kernel() -> Iterator[KernelManager]:
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    try:
        yield km
    finally:
        if km.is_alive():
            km.shutdown_kernel(now=True)


def test_ready_means_both_channels_answered_and_iopub_holds_nothing_older(
    kernel: KernelManager,
) -> None:
    kc = kernel.client()
    kc.start_channels()
    try:
        asyncio.run(wait_until_ready(kc, timeout=120))
        msg_id = kc.execute("print('after ready')")
        first = kc.get_iopub_msg(timeout=60)
        assert first["parent_header"]["msg_id"] == msg_id  # nothing of the start-up is left
        assert (first["msg_type"], first["content"]["execution_state"]) == ("status", "busy")
        assert kc.get_shell_msg(timeout=60)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()


def test_a_dead_kernel_is_an_error_not_a_wait(kernel: KernelManager) -> None:
    kc = kernel.client()
    kc.start_channels()
    try:
        kernel.shutdown_kernel(now=True)
        with pytest.raises(RuntimeError, match=r"died|respond"):
            asyncio.run(wait_until_ready(kc, timeout=60))
    finally:
        kc.stop_channels()
