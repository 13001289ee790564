"""Installation- and provisioning-order pages. Installation: the scoped list (staff: every order,
with filters; a customer user: their own, read-only) and one order (its service, checklist, the C3 deadline, the audit trail,
and for engineers and managers the tick boxes and the pause, resume, complete and cancel forms).
Reads through orders.selectors (another customer's order is a 404), writes through
orders.services. Provisioning (E5): the same, with the payment confirmation that starts the
clock and the completion that tells the customer's contacts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, form_add_domain_error, querystring_without_page

from . import services
from .choices import ChecklistCode, OrderState, PauseReason, ProvisioningItemCode, ProvisioningState
from .forms import (
    CancelForm,
    CompleteForm,
    ItemForm,
    OrderFilterForm,
    PauseForm,
    PaymentForm,
    ProvisioningCompleteForm,
    ProvisioningFilterForm,
    ProvisioningOpenForm,
    ProvisioningUpdateForm,
    ResumeForm,
)
from .models import InstallationOrder, ProvisioningOrder
from .selectors import (
    order_audit,
    order_c3_clock,
    order_items,
    order_list,
    provisioning_audit,
    provisioning_clock,
    provisioning_items,
    provisioning_list,
)
from .services import provisioning as prov
from .statement import provisioning_verdict

AUDIT_LABELS = {
    "create": gettext_lazy("order opened"), "item_done": gettext_lazy("item done"),
    "item_undone": gettext_lazy("item ticked back"), "pause": gettext_lazy("paused"),
    "resume": gettext_lazy("resumed"), "complete": gettext_lazy("completed"),
    "cancel": gettext_lazy("cancelled"),
    "deadline_pending": gettext_lazy("deadline pending (calendar missing)"),
    "no_clock": gettext_lazy("no installation clock"),
    "refund_proposed": gettext_lazy("installation-fee refund proposed"),
    "refund_none": gettext_lazy("no installation fee to refund"),
    "refund_withdrawn": gettext_lazy("installation-fee refund withdrawn"),
}


def can_act(user: Any) -> bool:
    return user_has_role(user, *services.ACTOR_ROLES)


def _scoped(request: HttpRequest, pk: int) -> InstallationOrder:
    if not user_is_staff(request.user) and user_customer_id(request.user) is None:
        raise PermissionDenied
    return get_object_or_404(order_list(user=request.user), pk=pk)


@login_required
def order_list_view(request: HttpRequest) -> HttpResponse:
    staff = user_is_staff(request.user)
    if not staff and user_customer_id(request.user) is None:
        raise PermissionDenied
    form = OrderFilterForm(request.GET or None, user=request.user, staff=staff)
    qs = order_list(user=request.user, **form.selector_kwargs(filter_values(request, form)))
    return render(request, "orders/order_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "staff": staff})


def _audit_rows(order: InstallationOrder) -> list[Any]:
    states = dict(OrderState.choices)
    items = dict(ChecklistCode.choices)
    causes = dict(PauseReason.choices)
    rows = list(order_audit(order))
    for e in rows:
        label = str(AUDIT_LABELS.get(e.action, e.action))
        data = e.data or {}
        if data.get("item") in items:
            label = f"{label}: {items[data['item']]}"
        if data.get("cause") in causes:
            label = f"{label}: {causes[data['cause']]}"
        e.action_label = label
        e.from_label = str(states.get(e.from_state, e.from_state))
        e.to_label = str(states.get(e.to_state, e.to_state))
    return rows


def _detail(request: HttpRequest, order: InstallationOrder, *, forms: dict[str, Any] | None = None,
            status: int = 200) -> HttpResponse:
    user = request.user
    forms = forms or {}
    acting = can_act(user) and order.is_open
    return render(request, "orders/order_detail.html", {
        "order": order, "items": order_items(order), "clock": order_c3_clock(order),
        "audit": _audit_rows(order), "staff": user_is_staff(user), "can_act": acting,
        "can_cancel": user_has_role(user, Role.MANAGER) and order.is_open,
        "item_form": forms.get("item") or ItemForm(),
        "pause_form": forms.get("pause") or PauseForm(),
        "resume_form": forms.get("resume") or ResumeForm(),
        "complete_form": forms.get("complete") or CompleteForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
    }, status=status)


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _scoped(request, pk))


def _act(request: HttpRequest, order: InstallationOrder, *, name: str, form: Any, call: Any,
         done: str) -> HttpResponse:
    """Run one service call for a POSTed form: a role refusal is a 403, a state conflict a
    message (nothing changed), a refusal of the input the page again with the form's errors."""
    if not form.is_valid():
        return _detail(request, order, forms={name: form}, status=400)
    try:
        call(form.cleaned_data)
    except ForbiddenError:
        raise PermissionDenied
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("orders:detail", order.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, order, forms={name: form}, status=400)
    messages.success(request, done)
    return redirect("orders:detail", order.pk)


@login_required
@require_POST
def item_done(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    order = _scoped(request, pk)
    get_object_or_404(order.items.all(), code=code)
    return _act(request, order, name="item", form=ItemForm(request.POST), done=_("The item was ticked."),
                call=lambda d: services.order_item_done(order_id=order.pk, item_code=code,
                                                        actor=request.user, note=d["note"]))


@login_required
@require_POST
def item_undo(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    order = _scoped(request, pk)
    get_object_or_404(order.items.all(), code=code)
    return _act(request, order, name="item", form=ItemForm(request.POST),
                done=_("The tick was taken back."),
                call=lambda d: services.order_item_undo(order_id=order.pk, item_code=code,
                                                        actor=request.user, note=d["note"]))


@login_required
@require_POST
def order_pause(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped(request, pk)
    return _act(request, order, name="pause", form=PauseForm(request.POST),
                done=_("The installation is paused; its deadline stops while the customer holds it up."),
                call=lambda d: services.order_pause(order_id=order.pk, reason_code=d["reason"],
                                                    note=d["note"], actor=request.user))


@login_required
@require_POST
def order_resume(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped(request, pk)
    return _act(request, order, name="resume", form=ResumeForm(request.POST),
                done=_("The installation was resumed; the deadline moved by the paused time."),
                call=lambda d: services.order_resume(order_id=order.pk, note=d["note"], actor=request.user))


@login_required
@require_POST
def order_complete(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped(request, pk)
    return _act(request, order, name="complete", form=CompleteForm(request.POST),
                done=_("The installation was completed."),
                call=lambda d: services.order_complete(order_id=order.pk, actor=request.user,
                                                       confirm=d["confirm"], note=d["note"]))


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped(request, pk)
    return _act(request, order, name="cancel", form=CancelForm(request.POST),
                done=_("The installation order was cancelled."),
                call=lambda d: services.order_cancel(order_id=order.pk, actor=request.user,
                                                     reason=d["reason"]))


# --- E-mail provisioning orders (E5) -----------------------------------------------------------
# The same shape as the installation pages: a scoped queue (staff: every open order with the time
# left; a customer user: their own, read-only), one order with its checklist, and one POST form
# per service call. Another customer's order is a 404.

PROVISIONING_AUDIT_LABELS = {
    "create": gettext_lazy("order opened"), "update": gettext_lazy("domain changed"),
    "confirm_payment": gettext_lazy("payment confirmed"), "item_done": gettext_lazy("item done"),
    "item_undone": gettext_lazy("item ticked back"), "complete": gettext_lazy("completed"),
    "notify": gettext_lazy("customer's contacts notified"), "cancel": gettext_lazy("cancelled"),
    "no_clock": gettext_lazy("no provisioning clock"),
    "waiver_proposed": gettext_lazy("that month's fee waiver proposed"),
    "waiver_none": gettext_lazy("no monthly fee to waive"),
    "waiver_withdrawn": gettext_lazy("that month's fee waiver withdrawn"),
}


def _scoped_provisioning(request: HttpRequest, pk: int) -> ProvisioningOrder:
    if not user_is_staff(request.user) and user_customer_id(request.user) is None:
        raise PermissionDenied
    return get_object_or_404(provisioning_list(user=request.user), pk=pk)


def _clock_for_row(o: ProvisioningOrder) -> Any:
    """The annotated deadline as something the time-left tags read (no query per row)."""
    if not getattr(o, "e5_due_at", None):
        return None
    return SimpleNamespace(due_at=o.e5_due_at, state=o.e5_state, paused_at=None)


@login_required
def provisioning_list_view(request: HttpRequest) -> HttpResponse:
    staff = user_is_staff(request.user)
    if not staff and user_customer_id(request.user) is None:
        raise PermissionDenied
    form = ProvisioningFilterForm(request.GET or None, user=request.user, staff=staff)
    qs = provisioning_list(user=request.user, **form.selector_kwargs(filter_values(request, form)))
    page = keyset_page(request, qs)
    for o in page.object_list:
        o.row_clock = _clock_for_row(o)
    return render(request, "orders/provisioning_list.html", {
        "form": form, "page": page, "qs": querystring_without_page(request), "staff": staff,
        "can_open": user_has_role(request.user, *prov.OPEN_ROLES)})


@login_required
def provisioning_new(request: HttpRequest) -> HttpResponse:
    if not user_has_role(request.user, *prov.OPEN_ROLES):
        raise PermissionDenied
    form = ProvisioningOpenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            order = prov.provisioning_open(service_id=d["service"].pk, domain=d["domain"],
                                           new_domain=d["new_domain"], actor=request.user)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The provisioning order was opened; it waits for the payment."))
            return redirect("orders:provisioning_detail", order.pk)
    return render(request, "orders/provisioning_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


def _provisioning_audit_rows(order: ProvisioningOrder) -> list[Any]:
    states = dict(ProvisioningState.choices)
    items = dict(ProvisioningItemCode.choices)
    rows = list(provisioning_audit(order))
    for e in rows:
        label = str(PROVISIONING_AUDIT_LABELS.get(e.action, e.action))
        data = e.data or {}
        if data.get("item") in items:
            label = f"{label}: {items[data['item']]}"
        e.action_label = label
        e.from_label = str(states.get(e.from_state, e.from_state))
        e.to_label = str(states.get(e.to_state, e.to_state))
    return rows


def _provisioning_detail(request: HttpRequest, order: ProvisioningOrder, *,
                         forms: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    forms = forms or {}
    return render(request, "orders/provisioning_detail.html", {
        "order": order, "items": provisioning_items(order), "clock": provisioning_clock(order),
        "audit": _provisioning_audit_rows(order), "staff": user_is_staff(user),
        "can_work": user_has_role(user, *prov.WORK_ROLES) and order.is_open,
        "can_change": user_has_role(user, *prov.OPEN_ROLES) and order.is_open,
        "can_pay": user_has_role(user, *prov.PAYMENT_ROLES)
        and order.state == ProvisioningState.AWAITING_PAYMENT,
        "can_complete": user_has_role(user, *prov.WORK_ROLES) and order.state == ProvisioningState.IN_PROGRESS,
        "can_cancel": user_has_role(user, Role.MANAGER) and order.is_open,
        "verdict": provisioning_verdict(_annotated(order)),
        "item_form": forms.get("item") or ItemForm(),
        "update_form": forms.get("update") or ProvisioningUpdateForm(
            initial={"domain": order.domain, "new_domain": order.new_domain}),
        "payment_form": forms.get("payment") or PaymentForm(),
        "complete_form": forms.get("complete") or ProvisioningCompleteForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
    }, status=status)


def _annotated(order: ProvisioningOrder) -> ProvisioningOrder:
    if not hasattr(order, "e5_state"):
        clock = provisioning_clock(order)
        order.e5_state = clock.state if clock else None  # type: ignore[attr-defined]
    return order


@login_required
def provisioning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _provisioning_detail(request, _scoped_provisioning(request, pk))


def _prov_act(request: HttpRequest, order: ProvisioningOrder, *, name: str, form: Any, call: Any,
              done: str) -> HttpResponse:
    """Run one service call for a POSTed form: a role refusal is a 403, a state conflict a
    message (nothing changed), a refusal of the input the page again with the form's errors."""
    if not form.is_valid():
        return _provisioning_detail(request, order, forms={name: form}, status=400)
    try:
        call(form.cleaned_data)
    except ForbiddenError:
        raise PermissionDenied from None
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("orders:provisioning_detail", order.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _provisioning_detail(request, order, forms={name: form}, status=400)
    messages.success(request, done)
    return redirect("orders:provisioning_detail", order.pk)


@login_required
@require_POST
def provisioning_update(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    return _prov_act(request, order, name="update", form=ProvisioningUpdateForm(request.POST),
                     done=_("The order was changed."),
                     call=lambda d: prov.provisioning_update(
                         order_id=order.pk, domain=d["domain"], new_domain=d["new_domain"],
                         reason=d["reason"], actor=request.user))


@login_required
@require_POST
def provisioning_confirm_payment(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    return _prov_act(request, order, name="payment", form=PaymentForm(request.POST),
                     done=_("The payment was confirmed; the provisioning deadline runs."),
                     call=lambda d: prov.provisioning_payment_confirm(
                         order_id=order.pk, paid_at=d["paid_at"], reference=d["reference"],
                         actor=request.user))


@login_required
@require_POST
def provisioning_item_done(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    get_object_or_404(order.items.all(), code=code)
    return _prov_act(request, order, name="item", form=ItemForm(request.POST), done=_("The item was ticked."),
                     call=lambda d: prov.provisioning_item_done(order_id=order.pk, item_code=code,
                                                                actor=request.user, note=d["note"]))


@login_required
@require_POST
def provisioning_item_undo(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    get_object_or_404(order.items.all(), code=code)
    return _prov_act(request, order, name="item", form=ItemForm(request.POST),
                     done=_("The tick was taken back."),
                     call=lambda d: prov.provisioning_item_undo(order_id=order.pk, item_code=code,
                                                                actor=request.user, note=d["note"]))


@login_required
@require_POST
def provisioning_complete(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    return _prov_act(request, order, name="complete", form=ProvisioningCompleteForm(request.POST),
                     done=_("The e-mail service was opened and the customer's contacts were notified."),
                     call=lambda d: prov.provisioning_complete(
                         order_id=order.pk, actor=request.user, confirm=d["confirm"], note=d["note"],
                         completed_at=d["completed_at"]))


@login_required
@require_POST
def provisioning_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = _scoped_provisioning(request, pk)
    return _prov_act(request, order, name="cancel", form=CancelForm(request.POST),
                     done=_("The provisioning order was cancelled."),
                     call=lambda d: prov.provisioning_cancel(order_id=order.pk, actor=request.user,
                                                             reason=d["reason"]))
