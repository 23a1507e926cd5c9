"""Kept for the documented ``from scheduler_app.events import became, emit_on``.

The module lives in :mod:`scheduler_app.services.event_bindings`; this name stays
importable because module authors wire their signals with it.
"""

from scheduler_app.services.event_bindings import EventBinding, became, changed, emit_on, track

__all__ = ["EventBinding", "became", "changed", "emit_on", "track"]
