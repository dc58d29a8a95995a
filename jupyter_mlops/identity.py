"""Who did something: the name recorded on runs, registrations and promotions.

The jupyter-server identity in the UI and REST (its ``username``, else its ``name``), the
OS user on the CLI (or ``--user``), so an audit trail reads the same whichever way a
change came.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

UNKNOWN = "unknown"


def os_user() -> str:
    """The OS user of this process (``USER``/``LOGNAME`` first, as ``getpass`` does)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or UNKNOWN


def server_user(user: Any) -> str:
    """A jupyter-server ``current_user`` (a ``jupyter_server.auth.User``, or a name)."""
    if user is None:
        return UNKNOWN
    if isinstance(user, str):
        return user or UNKNOWN
    for attr in ("username", "name", "display_name"):
        value = getattr(user, attr, None)
        if value:
            return str(value)
    return UNKNOWN
