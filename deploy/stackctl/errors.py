"""The one exception type stackctl raises for failures it expects."""

from __future__ import annotations


class StackError(Exception):
    """An expected failure, reported as one line and exit status 2, never a traceback.

    ``message`` reads ``<what> (<where>)``: where names the log file or the setting
    to look at. ``detail`` is printed after it, e.g. the last lines of a server's log.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
