"""Ctrl-C (SIGINT) and SIGTERM ask a run to stop after the current step, save a checkpoint and
exit cleanly; a second signal acts at once as it would without rnnkit."""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """`signal` is the number of the signal that asked to stop, or None."""

    def __init__(self):
        self.signal: int | None = None

    @contextlib.contextmanager
    def installed(self):
        """Catch the signals inside the block (only the main thread can: elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.getsignal(s) for s in SIGNALS}

        def handler(signum, frame):
            self.signal = signum
            for s, h in previous.items():
                signal.signal(s, h)

        for s in SIGNALS:
            signal.signal(s, handler)
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
