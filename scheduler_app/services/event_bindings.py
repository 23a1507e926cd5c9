"""Bind a module's own signals and model saves to scheduler events (``emit_on``).

The event journey: here a signal becomes :func:`services.emit`
(:mod:`.emitting`), which queues one PendingEvent per listening task; the
engine turns each into a run (:mod:`scheduler_app.engine.event_runs`).

In the module's ``AppConfig.ready()``::

    from django.db.models.signals import post_save
    from scheduler_app.events import became, emit_on

    emit_on(
        Opportunity,
        post_save,
        "crm.opportunity.won",
        when=became("stage", "won"),
        payload=lambda instance, **kw: {"opportunity": instance.pk},
    )

Each time the signal is sent (and ``when`` holds) :func:`services.emit` runs:
the listening EVENT tasks are queued once each, after the transaction
commits; nothing fires on rollback. Model signals are not sent by
``QuerySet.update()`` or bulk writes: change such rows through ``save()`` (or
call ``services.emit`` yourself) when an event must follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.signals import post_init, pre_save
from django.dispatch import Signal

_MISSING = object()
_INITIAL = "_scheduler_initial"
_PREVIOUS = "_scheduler_previous"
_tracked: dict[type[models.Model], set[str]] = {}


@dataclass(frozen=True)
class EventBinding:
    """One signal mapped to one event; ``disconnect()`` undoes :func:`emit_on`."""

    signal: Signal
    sender: Any
    event: str
    dispatch_uid: str

    def disconnect(self) -> bool:
        return self.signal.disconnect(sender=self.sender, dispatch_uid=self.dispatch_uid)


def _default_payload(sender: Any = None, instance: Any = None, **kwargs: Any) -> dict[str, Any]:
    if isinstance(instance, models.Model):
        return {"model": instance._meta.label_lower, "pk": instance.pk}
    return {}


def emit_on(
    sender: Any,
    signal: Signal,
    event: str,
    *,
    payload: Callable[..., dict[str, Any]] | None = None,
    when: Callable[..., bool] | None = None,
    dispatch_uid: str | None = None,
) -> EventBinding:
    """Emit ``event`` whenever ``signal`` is sent by ``sender`` (a model class or any sender).

    Parameters:
        payload: called with the signal's keyword arguments (``instance``,
            ``created``, ... for model signals); returns the JSON payload.
            Default: ``{"model": "app.model", "pk": ...}``.
        when: called the same way; the event is emitted only if it returns
            True. :func:`became` and :func:`changed` make such tests.
        dispatch_uid: connecting twice with the same uid connects once.

    Fixture loading (``raw=True``) emits nothing.
    """
    from scheduler_app import services

    build = payload or _default_payload
    for field_name in getattr(when, "fields", ()):
        if isinstance(sender, type) and issubclass(sender, models.Model):
            track(sender, field_name)
    uid = dispatch_uid or f"scheduler_app.emit_on:{_label(sender)}:{id(signal)}:{event}"

    def receiver(sender: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):
            return
        if when is not None and not when(sender=sender, **kwargs):
            return
        services.emit(event, build(sender=sender, **kwargs))

    # A strong reference: the closure is the only thing holding the receiver.
    signal.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
    return EventBinding(signal, sender, event, uid)


def _label(sender: Any) -> str:
    if isinstance(sender, type) and issubclass(sender, models.Model):
        return sender._meta.label_lower
    return repr(sender)


# --- what changed in a save -----------------------------------------------------------


def track(model: type[models.Model], *fields: str) -> None:
    """Remember the loaded values of ``fields`` so ``became``/``changed`` can compare on save."""
    known = _tracked.setdefault(model, set())
    if not known:
        post_init.connect(
            _remember,
            sender=model,
            weak=False,
            dispatch_uid=f"scheduler_app.track.init:{model._meta.label_lower}",
        )
        pre_save.connect(
            _shift,
            sender=model,
            weak=False,
            dispatch_uid=f"scheduler_app.track.save:{model._meta.label_lower}",
        )
    for name in fields:
        known.add(_attname(model, name))


def _attname(model: type[models.Model], field_name: str) -> str:
    """The attribute a field stores its value in (``owner_id`` for ``owner``)."""
    return getattr(model._meta.get_field(field_name), "attname", field_name)


def _values(instance: models.Model) -> dict[str, Any]:
    # Only fields already loaded: reading a deferred one would cost a query per instance.
    return {
        name: instance.__dict__.get(name, _MISSING) for name in _tracked.get(type(instance), ())
    }


def _remember(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    instance.__dict__[_INITIAL] = _values(instance)


def _shift(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    # pre_save runs before every post_save receiver: they all see the values before this save.
    instance.__dict__[_PREVIOUS] = instance.__dict__.get(_INITIAL, {})
    instance.__dict__[_INITIAL] = _values(instance)


def _previous(instance: models.Model, attname: str) -> Any:
    return instance.__dict__.get(_PREVIOUS, {}).get(attname, _MISSING)


class _FieldTest:
    def __init__(self, field_name: str, test: Callable[[Any, Any, bool], bool]) -> None:
        self.fields = (field_name,)
        self.field_name = field_name
        self.test = test

    def __call__(
        self, instance: models.Model | None = None, created: bool = False, **kwargs: Any
    ) -> bool:
        if instance is None:
            return False
        attname = _attname(type(instance), self.field_name)
        return self.test(_previous(instance, attname), getattr(instance, attname), created)


def became(field_name: str, value: Any) -> Callable[..., bool]:
    """For post_save: ``field_name`` is ``value`` now and was not before (or the row is new)."""
    return _FieldTest(
        field_name, lambda old, new, created: new == value and (created or old != value)
    )


def changed(field_name: str) -> Callable[..., bool]:
    """For post_save: ``field_name`` has a different value than when the row was loaded."""
    return _FieldTest(
        field_name, lambda old, new, created: not created and old is not _MISSING and old != new
    )
