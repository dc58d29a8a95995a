"""Is the kernel ready? Answered by the kernel itself, not by 0.2 s of silence.

jupyter_client's ``wait_for_ready`` (which nbclient, and so papermill, calls on every
kernel it connects to) sends ``kernel_info``, waits for the reply on the shell channel and
one message on IOPub (proof the IOPub subscription is connected), and then reads IOPub
until nothing has come for 0.2 s, to drop what the kernel published while it started.
That last wait is a fixed 0.2 s on every run.

The protocol gives a precise end instead: for each request the kernel publishes ``status:
busy`` and, once it is done, ``status: idle`` on IOPub, with the request as their parent,
and IOPub delivers in order. So once the idle of our ``kernel_info`` has arrived, IOPub is
connected and everything the kernel published before it has been read (and dropped, as
``wait_for_ready`` drops it); nothing else is pending. A missed idle (a subscription that
connected too late to see it) is answered as jupyter_client answers it: ask again.
"""

from __future__ import annotations

import math
import time
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async

SHELL_REPLY_TIMEOUT_S = 1.0
"""How long one ``kernel_info`` may take to be answered before it is sent again."""
IDLE_TIMEOUT_S = 0.5
"""How long to wait for its idle on IOPub before asking again (a late subscription)."""


async def wait_until_ready(kc: Any, timeout: float | None) -> None:
    """Return once the kernel has answered a ``kernel_info`` on the shell channel and
    IOPub has delivered the idle status of that request; raise ``RuntimeError`` when the
    kernel dies first or ``timeout`` seconds pass (as ``wait_for_ready`` does)."""
    deadline = time.monotonic() + (math.inf if timeout is None else timeout)
    while True:
        msg_id = kc.kernel_info()
        reply = await _message(kc.shell_channel, msg_id, SHELL_REPLY_TIMEOUT_S, "kernel_info_reply")
        if reply is not None and await _message(kc.iopub_channel, msg_id, IDLE_TIMEOUT_S, "idle"):
            kc._handle_kernel_info_reply(reply)  # the protocol version, as jupyter_client does
            return
        if not await ensure_async(kc.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


async def _message(channel: Any, parent_id: str, within: float, wanted: str) -> Any:
    """The first message on ``channel`` answering ``parent_id`` that is ``wanted`` (a
    message type, or "idle" for the idle status); the ones before it are dropped. None
    when none comes ``within`` seconds."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await ensure_async(channel.get_msg(timeout=left))
        except Empty:
            return None
        if msg.get("parent_header", {}).get("msg_id") != parent_id:
            continue
        if wanted == "idle":
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return msg
        elif msg["msg_type"] == wanted:
            return msg
    return None
