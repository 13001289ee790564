"""A broken E4 clock: seed 002 §4.3 免收甲方当月之费用. A case that concerns an e-mail customer
proposes that month's fee waived, once per contract and month for this promise (and not at all
when a live fee waiver of the same contract and month already stands, from whatever promise);
a case with no customer has nobody to compensate and is escalated (the sweep's breach e-mail to
the managers, recorded on the case). A breach withdrawn (met in time, recorded late; exempted)
withdraws the waiver unless another E4 breach of the contract in that month still stands."""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from audit.services import audit_for, audit_record
from credits.choices import LIVE_CREDIT_STATES, CreditKind, CreditState
from credits.models import Credit
from credits.services import credit_propose, credit_withdraw
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_meet_for

from ..models import IscPublication, SpamCase

logger = logging.getLogger(__name__)

E4_CODES = ("E4-RESP", "E4-RESULT")
ISC = "E4-ISC"


def waiver_dedupe_key(contract_id: int, month: date) -> str:
    """One E4 fee waiver per contract and month, however many cases broke a clock in it."""
    return f"E4:waive_month_rent:contract:{contract_id}:{month:%Y-%m}"


def _month_of(clock: Clock) -> date:
    return timezone.localtime(clock.due_at).date().replace(day=1)


def _audited(obj: SpamCase | IscPublication, action: str, clock: Clock) -> bool:
    return audit_for(obj).filter(action=action, data__clock=clock.pk).exists()


def case_breach_record(*, case: SpamCase, clock: Clock, now: datetime | None = None) -> Credit | None:
    """E4 is broken on this case: propose the waiver of the contract's fee for the month the
    deadline fell in (idempotent), or record the escalation when no customer is concerned."""
    now = now or timezone.now()
    with transaction.atomic():
        if case.contract_id is None:
            if not _audited(case, "escalated", clock):
                audit_record(obj=case, action="escalated", now=now,
                             reason=f"{clock.policy.code} breached; no customer concerned: escalated to the managers",
                             data={"clock": clock.pk})
            return None
        contract = case.contract
        assert contract is not None
        month = _month_of(clock)
        if contract.monthly_fee <= 0:
            if not _audited(case, "waiver_none", clock):
                audit_record(obj=case, action="waiver_none", now=now,
                             reason=f"{clock.policy.code} breached; the monthly fee is 0.00: nothing to waive",
                             data={"clock": clock.pk})
            return None
        key = waiver_dedupe_key(contract.pk, month)
        mine = Credit.objects.filter(dedupe_key=key).first()
        if mine is not None and mine.state == CreditState.WITHDRAWN:
            # Withdrawn when an earlier breach turned out to be in time; this one is a new breach.
            key = f"{key}:clock:{clock.pk}"
            mine = Credit.objects.filter(dedupe_key=key).first()
        if mine is None:
            other = (Credit.objects.filter(contract=contract, period=month, kind=CreditKind.WAIVE_MONTH_RENT,
                                           state__in=LIVE_CREDIT_STATES, reverses__isnull=True)
                     .exclude(dedupe_key__startswith="E4:").first())
            if other is not None:
                # The month's fee is already waived (another promise broke): waived once, not twice.
                if not _audited(case, "waiver_exists", clock):
                    audit_record(obj=case, action="waiver_exists", now=now,
                                 reason=f"{clock.policy.code} breached; that month's fee is already waived",
                                 data={"clock": clock.pk, "credit": other.pk})
                return other
        due = timezone.localtime(clock.due_at)
        credit = credit_propose(
            contract=contract, policy_code=clock.policy.code, kind=CreditKind.WAIVE_MONTH_RENT,
            period=month, amount=contract.monthly_fee, evidence=clock, dedupe_key=key, now=now,
            note=(f"垃圾邮件案件 {case.number}：{clock.policy.name_zh}未在期限（{due:%Y-%m-%d %H:%M}）前完成，"
                  f"依保证书第四条免收当月（{month:%Y-%m}）之费用。"
                  f" Spam case {case.number}: {clock.policy.name_en} not done by {due:%Y-%m-%d %H:%M}; "
                  f"that month's fee waived (E4)."))
        if not _audited(case, "waiver_proposed", clock):
            audit_record(obj=case, action="waiver_proposed", now=now, reason=f"{clock.policy.code} breached",
                         data={"clock": clock.pk, "credit": credit.pk, "amount": str(credit.amount)})
    return credit


def case_breach_withdrawn(*, clock_id: int, reason: str, now: datetime | None = None) -> Credit | None:
    """An E4 breach of a case no longer stands: withdraw the month's E4 waiver of its contract,
    unless another case of that contract still has an E4 breach in the same month. Idempotent."""
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(SpamCase)
    clock = Clock.objects.filter(pk=clock_id, content_type=ct, policy__code__in=E4_CODES).first()
    if clock is None:
        return None
    case = SpamCase.objects.filter(pk=clock.object_id).first()
    if case is None or case.contract_id is None:
        return None
    month = _month_of(clock)
    with transaction.atomic():
        cases = SpamCase.objects.filter(contract=case.contract_id).values("pk")
        still = [c for c in Clock.objects.filter(content_type=ct, object_id__in=cases, policy__code__in=E4_CODES,
                                                 state=ClockState.BREACHED) if _month_of(c) == month]
        if still:
            return None
        credit = (Credit.objects.select_for_update()
                  .filter(contract=case.contract_id, dedupe_key__startswith=waiver_dedupe_key(case.contract_id, month),
                          state__in=[CreditState.PROPOSED, CreditState.APPROVED]).first())
        if credit is None:
            return None
        credit_withdraw(credit_id=credit.pk, now=now,
                        reason=f"垃圾邮件案件 {case.number} 的超期判定已撤销：{reason}".strip())
        audit_record(obj=case, action="waiver_withdrawn", now=now, reason=reason,
                     data={"credit": credit.pk, "clock": clock.pk})
    return credit


def abuse_clocks_breached(*, clock_ids: list[int], now: datetime | None = None) -> int:
    """The sweep breached these clocks: for each E4 clock of a spam case, the waiver or the
    escalation; an E4-ISC clock of a list publication is escalated (its policy's remedy), and if
    the list was processed already (late), the late processing is recorded on the clock."""
    done = 0
    case_ct = ContentType.objects.get_for_model(SpamCase)
    pub_ct = ContentType.objects.get_for_model(IscPublication)
    for clock in Clock.objects.filter(pk__in=clock_ids).select_related("policy"):
        try:
            if clock.content_type_id == case_ct.pk and clock.policy.code in E4_CODES:
                case = SpamCase.objects.select_related("contract").get(pk=clock.object_id)
                case_breach_record(case=case, clock=clock, now=now)
                done += 1
            elif clock.content_type_id == pub_ct.pk and clock.policy.code == ISC:
                pub = IscPublication.objects.get(pk=clock.object_id)
                if not _audited(pub, "escalated", clock):
                    audit_record(obj=pub, action="escalated", now=now,
                                 reason="E4-ISC breached: escalated to the managers", data={"clock": clock.pk})
                if pub.processed_at is not None:
                    clock_meet_for(subject=pub, policy_code=ISC, reason="list processed", now=pub.processed_at)
                done += 1
        except Exception:  # the sweep already committed; one bad row must not stop the others
            logger.exception("recording the E4 breach of clock %s failed", clock.pk)
    return done
