"""Where runner processes execute. ``local``: detached processes on this machine."""

from .base import Backend, LaunchHandle
from .local import LocalBackend

__all__ = ["Backend", "LaunchHandle", "LocalBackend"]
