"""
Named points where the crash tests kill the process (T5): with ``CHARTER_CRASH_AT`` set to a
point's name, reaching it sends the process SIGKILL, so a test stops a worker exactly between
two writes instead of guessing the instant with timing. Unset (always, in production), a
point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "CHARTER_CRASH_AT"

POINTS = frozenset({"registration.subject_created", "audit.appended"})
"""The points there are (a test naming another one is a mistake it should hear about)."""


def reach(name: str) -> None:
    """Die here, as by ``kill -9``, when ``CHARTER_CRASH_AT`` names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
