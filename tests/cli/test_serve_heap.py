"""``charter serve`` freezes the objects made while starting, so the garbage collector's
full collections do not walk them while requests wait."""

from __future__ import annotations

import gc

from charter.cli.server import freeze_startup_heap


def test_the_startup_heap_is_frozen() -> None:
    marker = [object()]
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
        assert not any(o is marker for o in gc.get_objects())  # out of the collector's view
    finally:
        gc.unfreeze()
    assert any(o is marker for o in gc.get_objects())
