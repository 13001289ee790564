"""Schemathesis against the running portal: every operation of the OpenAPI schema served at
/api/schema/, with generated requests, for a manager and for a customer user, must answer with
no server error and exactly as the schema documents it (status code, content type and body).

The app runs for real (pytest-django's live_server: a threaded WSGI server over the test
database, requests over HTTP), with the demo data loaded so that ids in paths name real
complaints, reports, attachments, operations, visits... Each operation runs twice per user: once
with generated path ids (mostly "not found") and once with the ids of real objects that user
would work on (so transitions, downloads and validation really run). Examples are bounded and
derandomized (same cases every run), without shrinking, so the test takes about a minute or two.

Excluded: nothing. The alert webhook (its own bearer tokens) is exercised with generated tokens,
which it refuses with its documented 401; the multipart uploads with generated files, which the
content check refuses with its documented 400. Tokens are obtained through POST /api/auth/token/
with a user name and password (whatever the token model is), before the run: the run's own
failed sign-ins soon lock the client address out of that endpoint (429, as documented). The
token operations (which may revoke the very token the run uses) run last.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
import requests
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Bounded for the suite; SCHEMATHESIS_MAX_EXAMPLES=50 SCHEMATHESIS_RANDOM=1 digs deeper by hand.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
DERANDOMIZE = os.environ.get("SCHEMATHESIS_RANDOM", "") in ("", "0")
# SCHEMATHESIS_MODE=negative sends values the schema does not allow (to hunt for 500s by hand).
MODE = schemathesis.GenerationMode(os.environ.get("SCHEMATHESIS_MODE", "positive"))
PASSWORD = "schemathesis-Pa55word"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _token(base_url: str, username: str) -> str:
    r = requests.post(f"{base_url}/api/auth/token/", json={"username": username, "password": PASSWORD},
                      timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _known_objects(customer: Any | None) -> dict[str, dict[str, int]]:
    """Real path parameters per path template: objects of `customer` where there are any (a
    customer user's own), otherwise any (staff see all)."""
    from access_requests.models import Visit
    from complaints.models import Complaint, ComplaintAttachment
    from credits.models import Credit
    from customers.models import AuthorizedContact, Contract, Customer, Service
    from incidents.models import Incident, NoticeAttempt, Outage
    from monitoring.models import Target
    from notifications.models import Notification
    from operations.models import Authorization, OperationRequest
    from reports.models import WrittenReport
    from sla.models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride

    def pick(qs: Any, field: str | None = "customer") -> int | None:
        if customer is not None and field:
            own = qs.filter(**{field: customer.pk}).order_by("pk").first()
            if own is not None:
                return int(own.pk)
        first = qs.order_by("pk").first()
        return int(first.pk) if first is not None else None

    simple: dict[str, int | None] = {
        "/api/clocks/{id}/": pick(Clock.objects.all()),
        "/api/complaints/{id}/": pick(Complaint.objects.all()),
        "/api/contacts/{id}/": pick(AuthorizedContact.objects.all()),
        "/api/contracts/{id}/": pick(Contract.objects.all()),
        "/api/credits/{id}/": pick(Credit.objects.all()),
        "/api/customers/{id}/": pick(Customer.objects.all(), "pk"),
        "/api/downtime/{id}/": pick(Service.objects.all()),
        "/api/incidents/{id}/": pick(Incident.objects.all()),
        "/api/notice-attempts/{id}/": pick(NoticeAttempt.objects.all(), "incident__customer"),
        "/api/notifications/{id}/": pick(Notification.objects.all(), None),
        "/api/operations/{id}/": pick(OperationRequest.objects.all()),
        "/api/outages/{id}/": pick(Outage.objects.all()),
        "/api/policies/{id}/": pick(SlaPolicy.objects.all(), None),
        "/api/policy-overrides/{id}/": pick(ContractPolicy.objects.all(), "contract__customer"),
        "/api/services/{id}/": pick(Service.objects.all()),
        "/api/targets/{id}/": pick(Target.objects.all()),
        "/api/visits/{id}/": pick(Visit.objects.all()),
        "/api/workday-overrides/{id}/": pick(WorkdayOverride.objects.all(), None),
    }
    known = {prefix: {"id": pk} for prefix, pk in simple.items() if pk is not None}
    att = ComplaintAttachment.objects.order_by("pk").first()
    if att is not None:
        known["/api/complaints/{id}/attachments/{attachment_pk}/"] = {"id": att.complaint_id,
                                                                      "attachment_pk": att.pk}
    for report in WrittenReport.objects.order_by("pk"):
        model = report.content_type.model
        key = {"complaint": "/api/complaints/{id}/reports/{report_pk}/",
               "operationrequest": "/api/operations/{id}/reports/{report_pk}/"}.get(model)
        if key and key not in known:
            known[key] = {"id": report.object_id, "report_pk": report.pk}
    auth = Authorization.objects.exclude(stored_name="").order_by("pk").first()
    if auth is not None:
        known["/api/operations/{id}/authorizations/{auth_pk}/"] = {"id": auth.operation_id, "auth_pk": auth.pk}
    return known


def _path_parameters(path: str, known: dict[str, dict[str, int]]) -> dict[str, int] | None:
    """The real parameters for `path`: those of the longest known template it starts with."""
    names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
    if not names:
        return None
    for prefix in sorted(known, key=len, reverse=True):
        if path.startswith(prefix) and names <= set(known[prefix]):
            return {k: v for k, v in known[prefix].items() if k in names}
    return None


def _run(operation: Any, *, base_url: str, token: str, path_parameters: dict[str, int] | None,
         failures: list[str], seen: list[tuple[str, str, str, int]], label: str) -> int:
    headers = {"Authorization": f"Token {token}"}
    strategy = operation.as_strategy(MODE, headers=headers, path_parameters=path_parameters)
    calls = 0

    @settings(max_examples=MAX_EXAMPLES, derandomize=DERANDOMIZE, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=60)
        seen.append((label.split()[0], operation.method.upper(), operation.path, response.status_code))

    try:
        run()
    except (Exception, BaseExceptionGroup) as e:  # one failure per operation is enough; go on
        failures.append(f"{label} {operation.method.upper()} {operation.path}: {type(e).__name__}: "
                        f"{str(e)[:3000]}")
    return calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_conforms_to_its_schema_and_never_fails(live_server):  # type: ignore[no-untyped-def]
    from complaints.models import Complaint
    from complaints.services import complaint_attach
    from customers.models import Customer

    call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())
    huaxia = Customer.objects.get(code="demo-huaxia")
    manager = f.StaffFactory(role="manager", username="st-manager")
    customer_user = f.CustomerUserFactory(customer=huaxia, user__username="st-customer").user
    for user in (manager, customer_user):
        user.set_password(PASSWORD)
        user.save()
    # An attachment to download (the demo has none).
    complaint = Complaint.objects.filter(customer=huaxia).order_by("pk").first()
    assert complaint is not None
    complaint_attach(complaint_id=complaint.pk, f=SimpleUploadedFile("evil.html", PNG), actor=manager)

    base_url = live_server.url
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/schema/", headers={"Authorization": f"Token {_token(base_url, 'st-manager')}"},
        config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}))
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 100  # the whole API is walked, not an empty schema
    operations.sort(key=lambda op: op.path.startswith("/api/auth/"))
    tokens = {username: _token(base_url, username) for username in ("st-manager", "st-customer")}

    failures: list[str] = []
    seen: list[tuple[str, str, str, int]] = []  # (user, method, path, status) of each passed call
    calls = 0
    for who, username, customer in (("manager", "st-manager", None), ("customer", "st-customer", huaxia)):
        known = _known_objects(customer)
        for operation in operations:
            calls += _run(operation, base_url=base_url, token=tokens[username], path_parameters=None,
                          failures=failures, seen=seen, label=f"{who} (generated ids)")
            real = _path_parameters(operation.path, known)
            if real is not None:
                calls += _run(operation, base_url=base_url, token=tokens[username], path_parameters=real,
                              failures=failures, seen=seen, label=f"{who} (real ids {real})")
    # The run really worked the API, not just bounced off 401s (a revoked token) or 404s: each
    # user had many operations succeed.
    succeeded = {who: {(m, p) for w, m, p, st in seen if w == who and 200 <= st < 300}
                 for who in ("manager", "customer")}
    assert len(succeeded["manager"]) >= 50 and len(succeeded["customer"]) >= 30, \
        {who: len(ops) for who, ops in succeeded.items()}
    assert calls > 500  # the run really sent requests
    assert failures == [], "\n\n".join(failures)
