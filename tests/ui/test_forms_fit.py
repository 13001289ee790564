"""Forms that fit the data (issue 14): contacts of the chosen customer, labelled with it; escorts
chosen among people; visitors added freely up to a cap; people shown by full name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from access_requests.forms import MAX_VISITORS, ApproveForm, VisitorFormSet
from access_requests.models import DataCentre, Room, Visit
from complaints.forms import StaffComplaintForm
from complaints.services import complaint_create
from operations.forms import OperationForm
from servicedesk.forms import StaffRequestForm
from tests import factories as f

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def two_customers(customer_a: Any, charlie: Any) -> dict[str, Any]:
    customer_c = charlie.customer_link.customer
    return {
        "a": customer_a, "c": customer_c,
        "contact_a": f.AuthorizedContactFactory(customer=customer_a, name="李明"),
        "contact_c": f.AuthorizedContactFactory(customer=customer_c, name="王芳"),
        "service_a": f.ServiceFactory(contract=f.ContractFactory(customer=customer_a)),
    }


def _complaint_data(customer: Any, contact: Any) -> dict[str, Any]:
    return {"customer": customer.pk, "channel": "complaint_line", "complainant_contact": contact.pk,
            "subject": "network", "target": "provider", "title": "网络丢包", "description": "丢包严重"}


def test_complaint_contact_of_another_customer_is_a_form_error(specialist, two_customers):
    d = two_customers
    form = StaffComplaintForm(data=_complaint_data(d["a"], d["contact_c"]), user=specialist)
    with translation.override("en"):
        assert not form.is_valid()
        assert form.errors["complainant_contact"] == ["This contact belongs to another customer."]
    assert StaffComplaintForm(data=_complaint_data(d["a"], d["contact_a"]), user=specialist).is_valid()


def test_service_request_and_operation_refuse_another_customers_contact(specialist, two_customers):
    d = two_customers
    form = StaffRequestForm(data={"customer": d["a"].pk, "channel": "phone", "contact": d["contact_c"].pk,
                                  "kind": "inquiry", "title": "咨询", "description": "带宽"}, user=specialist)
    assert not form.is_valid() and "contact" in form.errors
    form = OperationForm(data={"service": d["service_a"].pk, "requested_by": d["contact_c"].pk,
                               "title": "重启", "description": "重启服务器", "urgency": "normal"},
                         user=specialist)
    assert not form.is_valid() and "requested_by" in form.errors


def test_contact_options_are_labelled_with_the_customer_and_tagged(specialist, two_customers):
    d = two_customers
    html = str(StaffComplaintForm(user=specialist)["complainant_contact"])
    assert f"李明（{d['a'].name}）" in html and f"王芳（{d['c'].name}）" in html
    assert f'data-customer="{d["a"].pk}"' in html and f'data-customer="{d["c"].pk}"' in html
    assert 'data-filter-customer="customer"' in html
    html = str(StaffRequestForm(user=specialist)["contact"])
    assert f"李明（{d['a'].name}）" in html and 'data-filter-customer="customer"' in html
    html = str(OperationForm(user=specialist)["requested_by"])
    assert 'data-filter-customer="service"' in html and f'data-customer="{d["c"].pk}"' in html


def test_a_customer_user_sees_only_their_own_contacts(alice, two_customers):
    html = str(OperationForm(user=alice)["requested_by"])
    assert "李明" in html and "王芳" not in html
    r = login(alice).get("/operations/new/")
    body = r.content.decode()
    assert r.status_code == 200 and "李明" in body and "王芳" not in body
    assert "js/forms.js" in body


def test_escort_choices_are_active_people_with_the_escort_role(dc_staff, specialist, engineer):
    dc_staff.first_name = "刘强"
    dc_staff.save()
    gone = f.StaffFactory(role="dc_staff", username="gone_zz", first_name="离职", is_active=False)
    form = ApproveForm()
    people = set(form.fields["escort"].queryset)
    assert dc_staff in people and engineer in people
    assert specialist not in people and gone not in people
    with translation.override("en"):
        labels = [str(label) for _v, label in form.fields["escort"].choices]
    assert "刘强（Data-centre staff）" in labels
    assert not any(label in ("dc_staff", "Data-centre staff", "dan") for label in labels)
    assert not ApproveForm(data={"escort": specialist.pk}).is_valid()
    assert not ApproveForm(data={"escort": gone.pk}).is_valid()
    assert ApproveForm(data={"escort": dc_staff.pk}).is_valid()


@pytest.fixture
def room(db: Any) -> Room:
    dc = DataCentre.objects.create(name="北京一号数据中心", code="bj1")
    return Room.objects.create(data_centre=dc, name="A301 机房", code="a301")


def _visit_data(room: Room, n: int) -> dict[str, Any]:
    entry = timezone.localtime(timezone.now() + timedelta(days=3))
    data: dict[str, Any] = {
        "room": room.pk, "reason": "上架新服务器", "activity": "operation",
        "expected_entry_at": entry.strftime("%Y-%m-%dT%H:%M"),
        "expected_exit_at": (entry + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "visitors-TOTAL_FORMS": str(n), "visitors-INITIAL_FORMS": "0", "visitors-MIN_NUM_FORMS": "1",
        "visitors-MAX_NUM_FORMS": str(MAX_VISITORS)}
    for i in range(n):
        data.update({f"visitors-{i}-name": f"访客{i}", f"visitors-{i}-id_type": "passport",
                     f"visitors-{i}-id_number": f"E{i:08d}", f"visitors-{i}-phone": ""})
    return data


def test_five_visitors_are_booked_and_twenty_one_refused(alice, room):
    c = login(alice)
    body = c.get("/visits/new/").content.decode()
    assert "data-formset-empty" in body and "visitors-__prefix__-name" in body and "js/forms.js" in body
    r = c.post("/visits/new/", _visit_data(room, 5))
    assert r.status_code == 302, r.content.decode()[:2000]
    assert sorted(Visit.objects.get().visitors.values_list("name", flat=True)) == [f"访客{i}" for i in range(5)]
    r = c.post("/visits/new/", _visit_data(room, MAX_VISITORS + 1))
    assert r.status_code == 400 and Visit.objects.count() == 1
    with translation.override("en"):
        formset = VisitorFormSet(_visit_data(room, MAX_VISITORS + 1), prefix="visitors")
        assert not formset.is_valid()
        assert formset.non_form_errors() == [f"A visit can have at most {MAX_VISITORS} visitors."]


def test_people_are_shown_by_full_name_not_login(alice, customer_a, manager):
    spec = f.StaffFactory(role="specialist", username="spec_zz9", first_name="李静")
    complaint = complaint_create(customer=customer_a, actor=spec, channel="complaint_line", subject="network",
                                 title="网络丢包", description="丢包严重", specialist=spec,
                                 complainant_name="张先生")
    for viewer in (alice, manager):
        body = login(viewer).get(f"/complaints/{complaint.pk}/").content.decode()
        assert "李静" in body and "spec_zz9" not in body


def test_the_person_filter():
    t = Template("{% load people %}[{{ u|person }}][{{ v|person|default:'—' }}][{{ w|person }}]")
    named = f.UserFactory(username="login_x", first_name="王建国")
    bare = f.UserFactory(username="login_y")
    out = t.render(Context({"u": named, "v": None, "w": bare}))
    assert out == "[王建国][—][login_y]"
