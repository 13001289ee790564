"""The clock fields kept on the item a clock runs for, so lists filter and sort on indexed columns
instead of computing each row's clock by subquery.

A workflow registers its model once (AppConfig.ready):

    sla.mirrors.register(Complaint, policy_codes=("C8",), prefix="sla_")

and declares three fields on the model (not editable; a migration back-fills them with
``mirror_refresh``):

- ``<prefix>due_at``: deadline of the item's current clock (null: no clock yet);
- ``<prefix>state``: that clock's state ("" without a clock);
- ``<prefix>overdue``: some clock of those policies is breached and not yet fulfilled (the
  definition the overdue filters used: a late report is still owed).

The current clock is the latest started one (then the highest id) of the registered policies,
as the list selectors computed it. A running clock past its deadline that the sweep has not yet
breached is *not* marked overdue here (no write happens at due_at); filters add it with
``overdue_q`` — ``<prefix>overdue OR (<prefix>state = running AND <prefix>due_at <= now)``, the
boundary of SPEC "Calendars and time": at due_at exactly the promise is broken.

The clock engine (sla.services) calls ``mirror_clocks`` in the transaction of every clock change
(start, pause, resume, meet, breach, cancel, exempt, extend, a late completion, the sweep's
breaches). It recomputes the item's fields from its clocks with one UPDATE … WHERE pk, after
locking the item row so the UPDATE reads the clocks as committed after that lock (two sweeps
never write an older picture over a newer one). An item row another transaction holds (a
workflow service that locked its complaint and is about to change the clock we hold) is skipped
rather than waited for — waiting there is a deadlock — and re-derived right after commit, when
no clock lock is held any more; that transaction recomputes it itself if it changes a clock.
``mirror_refresh`` re-derives every row of a model (the back-fill migrations, repairs).

Optional, per registration:

- ``extra``: more of the current clock kept beside the three fields — ``"paused_at"``
  (``<prefix>paused_at``, for a paused countdown), ``"started_at"`` (``<prefix>started_at``),
  ``"policy"`` (``<prefix>policy``: the code of the current clock's policy, "" without a clock);
- ``overdue_rule``: ``"owed"`` (the default, above) or ``"breached"`` — some clock of those
  policies is breached, fulfilled late or not (the definition the order lists used; they add the
  order's own open state).

A model whose rows a workflow saves whole (``instance.save()``) mixes in ``KeepsClockFields``:
such a save then never writes the kept fields back from a stale instance (the clock engine may
have changed them in the same transaction after the instance was loaded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from .choices import ClockState


@dataclass(frozen=True)
class Mirror:
    model: type[models.Model]
    policy_codes: tuple[str, ...]
    prefix: str
    extra: tuple[str, ...] = ()
    overdue_rule: str = "owed"

    @property
    def due_at(self) -> str:
        return f"{self.prefix}due_at"

    @property
    def state(self) -> str:
        return f"{self.prefix}state"

    @property
    def overdue(self) -> str:
        return f"{self.prefix}overdue"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.due_at, self.state, self.overdue, *(f"{self.prefix}{x}" for x in self.extra))


_REGISTRY: dict[type[models.Model], list[Mirror]] = {}


EXTRA_FIELDS = ("paused_at", "started_at", "policy")
OVERDUE_RULES = ("owed", "breached")


def register(model: type[models.Model], *, policy_codes: Sequence[str], prefix: str = "sla_",
             extra: Sequence[str] = (), overdue_rule: str = "owed") -> Mirror:
    """Keep the clock fields of `policy_codes` on `model` under `prefix` (idempotent)."""
    if set(extra) - set(EXTRA_FIELDS) or overdue_rule not in OVERDUE_RULES:
        raise ValueError(f"unknown extra field in {extra} or overdue rule {overdue_rule!r}")
    mirror = Mirror(model=model, policy_codes=tuple(policy_codes), prefix=prefix, extra=tuple(extra),
                    overdue_rule=overdue_rule)
    names = {f.name for f in model._meta.get_fields()}
    missing = [n for n in mirror.fields if n not in names]
    if missing:
        raise TypeError(f"{model.__name__} lacks the clock fields {missing}")
    mirrors = _REGISTRY.setdefault(model, [])
    if mirror not in mirrors:
        mirrors.append(mirror)
    return mirror


def registered(model: type[models.Model]) -> list[Mirror]:
    return list(_REGISTRY.get(model, []))


def overdue_q(*, prefix: str = "sla_", now: datetime) -> Q:
    """Late at `now`: breached and not fulfilled, or running at or past its deadline (the sweep
    has not got to it yet)."""
    return Q(**{f"{prefix}overdue": True}) | Q(**{f"{prefix}state": ClockState.RUNNING,
                                                  f"{prefix}due_at__lte": now})


def mirror_expressions(*, clock_model: type[models.Model], content_type_id: int,
                       policy_codes: Sequence[str], prefix: str, extra: Sequence[str] = (),
                       overdue_rule: str = "owed") -> dict[str, Any]:
    """The UPDATE's SET clause: each field from the item's clocks (also usable with a
    migration's historical models)."""
    clocks = clock_model._default_manager.filter(
        content_type_id=content_type_id, object_id=OuterRef("pk"), policy__code__in=list(policy_codes))
    latest = clocks.order_by("-started_at", "-id")
    late = clocks.filter(state=ClockState.BREACHED)
    if overdue_rule == "owed":
        late = late.filter(completed_at__isnull=True)
    out: dict[str, Any] = {
        f"{prefix}due_at": Subquery(latest.values("due_at")[:1]),
        f"{prefix}state": Coalesce(Subquery(latest.values("state")[:1]), Value("")),
        f"{prefix}overdue": Exists(late),
    }
    if "paused_at" in extra:
        out[f"{prefix}paused_at"] = Subquery(latest.values("paused_at")[:1])
    if "started_at" in extra:
        out[f"{prefix}started_at"] = Subquery(latest.values("started_at")[:1])
    if "policy" in extra:
        out[f"{prefix}policy"] = Coalesce(Subquery(latest.values("policy__code")[:1]), Value(""))
    return out


def _expressions(mirror: Mirror) -> dict[str, Any]:
    from .models import Clock

    return mirror_expressions(clock_model=Clock,
                              content_type_id=ContentType.objects.get_for_model(mirror.model).pk,
                              policy_codes=mirror.policy_codes, prefix=mirror.prefix,
                              extra=mirror.extra, overdue_rule=mirror.overdue_rule)


def _update(mirror: Mirror, pks: Iterable[int], *, wait: bool) -> list[int]:
    """Lock the rows (skipping those another transaction holds unless `wait`) and recompute
    them; returns the pks skipped."""
    pks = sorted(set(pks))
    if not pks:
        return []
    manager = mirror.model._default_manager
    with transaction.atomic(savepoint=False):
        if connection.features.has_select_for_update:
            locked = list(manager.select_for_update(
                skip_locked=not wait and connection.features.has_select_for_update_skip_locked)
                .filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))
        else:
            locked = pks
        if locked:
            manager.filter(pk__in=locked).update(**_expressions(mirror))
    done = set(locked)
    return [pk for pk in pks if pk not in done]


def _later(mirror: Mirror, pks: list[int]) -> None:
    def run() -> None:
        _update(mirror, pks, wait=True)

    transaction.on_commit(run)


def mirror_clocks(*, clocks: Iterable[Any] = (), clock_ids: Sequence[int] = ()) -> None:
    """Re-derive the stored clock fields of the registered items these clocks run for. `clocks`
    are Clock instances in hand (no query to find their items); `clock_ids` are looked up in one
    query (the sweep's claimed batches)."""
    if not _REGISTRY:
        return
    rows: list[tuple[int, int, int]] = [(c.content_type_id, c.object_id, c.policy_id) for c in clocks]
    if clock_ids:
        from .models import Clock

        cts = [ContentType.objects.get_for_model(m).pk for m in _REGISTRY]
        rows += list(Clock.objects.filter(pk__in=clock_ids, content_type_id__in=cts)
                     .values_list("content_type_id", "object_id", "policy_id"))
    by_mirror: dict[Mirror, set[int]] = defaultdict(set)
    for ct_id, object_id, policy_id in rows:
        model = ContentType.objects.get_for_id(ct_id).model_class()
        mirrors = _REGISTRY.get(model, []) if model else []
        if not mirrors:
            continue
        code = _policy_code(policy_id)
        for mirror in mirrors:
            if code in mirror.policy_codes:
                by_mirror[mirror].add(object_id)
    for mirror, pks in by_mirror.items():
        skipped = _update(mirror, pks, wait=False)
        if skipped:
            _later(mirror, skipped)


_CODES: dict[int, str] = {}


def _policy_code(policy_id: int) -> str | None:
    """The code of a registered policy by id, cached per process (policies are seeded rows whose
    codes never change meaning); an id not known reloads the map once."""
    from .models import SlaPolicy

    if policy_id not in _CODES:
        wanted = {code for ms in _REGISTRY.values() for m in ms for code in m.policy_codes}
        _CODES.clear()
        _CODES.update(SlaPolicy.objects.filter(code__in=wanted).values_list("pk", "code"))
    return _CODES.get(policy_id)


def mirror_refresh(model: type[models.Model], *, pks: Sequence[int] | None = None) -> int:
    """Re-derive the stored clock fields of every row of `model` (or of `pks`) from the clocks:
    the back-fill after adding the fields, or a repair. Returns the number of rows written."""
    written = 0
    for mirror in _REGISTRY.get(model, []):
        qs = mirror.model._default_manager.all()
        if pks is not None:
            qs = qs.filter(pk__in=pks)
        written = max(written, qs.update(**_expressions(mirror)))
    return written


class KeepsClockFields(models.Model):
    """Mixed into a registered model: a save writes every field but the kept clock fields (unless
    `update_fields` names them), so a workflow that loaded the row, changed a clock (the engine
    rewrote the fields) and then saves the row whole does not put the old clock back."""

    class Meta:
        abstract = True

    def _do_update(self, base_qs: Any, using: Any, pk_val: Any, values: Any, update_fields: Any,
                   forced_update: Any, *args: Any, **kwargs: Any) -> Any:
        kept = {name for m in _REGISTRY.get(type(self), []) for name in m.fields}
        if kept:
            named = set(update_fields or ())
            values = [v for v in values if v[0].name not in kept or v[0].name in named]
        return super()._do_update(base_qs, using, pk_val, values, update_fields,  # type: ignore[misc]
                                  forced_update, *args, **kwargs)
