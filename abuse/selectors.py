"""Reads of the anti-spam workflow, scoped by tenant in one place (customers.selectors): a
customer sees the cases about them (their complaints); another customer's case is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_for
from customers.selectors import scope_for_user, user_has_role, user_is_staff
from sla.models import Clock

from .models import AbuseDesk, BlacklistListing, CaseEvidence, CaseStep, IscPublication, SpamCase
from .services.cases import ACTOR_ROLES

RESP, RESULT, ISC = "E4-RESP", "E4-RESULT", "E4-ISC"


def user_may_handle(user: Any) -> bool:
    """Specialists, engineers and managers handle spam; data-centre staff do not see it."""
    return user_has_role(user, *ACTOR_ROLES)


def case_list(*, user: Any, state: str | None = None, kind: str | None = None,
              customer_id: int | None = None) -> models.QuerySet[SpamCase]:
    """Cases the user may see, each with its two clocks' deadline and state (kept on the case by
    the clock engine, sla.mirrors; None without a clock). Staff outside the handling roles see
    none."""
    qs = SpamCase.objects.all()
    if user_is_staff(user) and not user_may_handle(user):
        qs = qs.none()
    qs = scope_for_user(qs, user).select_related("customer", "complaint").annotate(
        resp_due_at=F("sla_resp_due_at"), resp_state=NullIf(F("sla_resp_state"), Value("")),
        result_due_at=F("sla_result_due_at"), result_state=NullIf(F("sla_result_state"), Value("")))
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-opened_at", "-id")


def case_get(*, user: Any, pk: int) -> SpamCase:
    """One case or SpamCase.DoesNotExist (a 404), also for another customer's."""
    return case_list(user=user).get(pk=pk)


def case_clocks(case: SpamCase) -> dict[str, Clock | None]:
    """The case's latest E4-RESP and E4-RESULT clocks."""
    ct = ContentType.objects.get_for_model(SpamCase)
    out: dict[str, Clock | None] = {RESP: None, RESULT: None}
    for clock in (Clock.objects.filter(content_type=ct, object_id=case.pk, policy__code__in=[RESP, RESULT])
                  .select_related("policy").order_by("started_at", "id")):
        out[clock.policy.code] = clock
    return out


def case_steps(case: SpamCase) -> models.QuerySet[CaseStep]:
    return case.steps.select_related("done_by").order_by("position", "id")


def case_evidence(case: SpamCase) -> models.QuerySet[CaseEvidence]:
    return case.evidence.select_related("step", "uploaded_by").order_by("uploaded_at", "id")


def case_audit(case: SpamCase) -> models.QuerySet[AuditEntry]:
    return audit_for(case)


def publication_list(*, user: Any, state: str | None = None) -> models.QuerySet[IscPublication]:
    """ISC list publications (provider-level: staff who handle spam only), with E4-ISC (kept on
    the publication, sla.mirrors)."""
    if not user_may_handle(user):
        return IscPublication.objects.none()
    qs = IscPublication.objects.select_related("recorded_by", "processed_by").annotate(
        isc_due_at=F("sla_due_at"), isc_state=NullIf(F("sla_state"), Value("")))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-published_at", "-id")


def publication_clock(pub: IscPublication) -> Clock | None:
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(IscPublication),
                                 object_id=pub.pk, policy__code=ISC).order_by("-started_at").first())


def listing_list(*, user: Any, reported: bool | None = None) -> models.QuerySet[BlacklistListing]:
    if not user_may_handle(user):
        return BlacklistListing.objects.none()
    qs = BlacklistListing.objects.select_related("recorded_by", "reported_by")
    if reported is not None:
        qs = qs.filter(reported_at__isnull=not reported)
    return qs.order_by("-listed_at", "-id")


def desk_get() -> AbuseDesk | None:
    """The abuse desk row, if entered."""
    return AbuseDesk.objects.filter(pk=1).first()


def cases_of_month(*, customer: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """A customer's cases opened in [start, end) with their clocks, for the monthly statement."""
    cases = list(SpamCase.objects.filter(customer=customer, opened_at__gte=start, opened_at__lt=end)
                 .order_by("opened_at", "id"))
    ct = ContentType.objects.get_for_model(SpamCase)
    clocks: dict[tuple[int, str], Clock] = {}
    for c in (Clock.objects.filter(content_type=ct, object_id__in=[x.pk for x in cases],
                                   policy__code__in=[RESP, RESULT]).select_related("policy").order_by("started_at")):
        clocks[(c.object_id, c.policy.code)] = c
    return [{"case": x, "resp": clocks.get((x.pk, RESP)), "result": clocks.get((x.pk, RESULT))} for x in cases]


def now_local() -> datetime:
    return timezone.localtime()
