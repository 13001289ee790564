"""The in-app notification centre: the events that write notification rows also write one inbox
item per portal user and event (however many channels carry it, however often it is enqueued);
each user reads, opens and marks read their own items only (another user's item is a 404); a
customer user only ever gets their own customer's events; the header shows the unread count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from notifications.channels.inbox import event_key
from notifications.models import InboxItem, Notification
from notifications.services import Message, notifications_enqueue
from sla.services import clock_start, clocks_sweep
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
WARN = T0 + timedelta(hours=24) * 80 / 100  # C8: 24 hours, warning at 80 %


def _login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _api(user: Any) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def _msg(*, key: str, channel: str = "email", address: str = "", **kw: Any) -> Message:
    base: dict[str, Any] = dict(channel=channel, address=address, kind="test", subject="测试通知 subject",
                                body="正文 body", idempotency_key=key)
    base.update(kw)
    return Message(**base)


def _item(user: Any, *, key: str, related: Any = None, title: str = "标题") -> InboxItem:
    notifications_enqueue(messages=[_msg(key=key, address=user.email, recipient_id=user.pk,
                                         related=related, subject=title)], now=T0)
    return InboxItem.objects.get(user=user, event_key=event_key(_msg(key=key)))


# --- Fed by the same events ----------------------------------------------------------------

def test_clock_warning_makes_one_item_per_recipient(engineer, manager):
    contract = f.ContractFactory()
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, assignee=engineer, now=T0)
    assert clocks_sweep(now=WARN).warned == [clock.pk]
    items = InboxItem.objects.filter(kind="clock_warning")
    assert sorted(items.values_list("user_id", flat=True)) == sorted([engineer.pk, manager.pk])
    item = items.get(user=engineer)
    assert item.related == clock and item.read_at is None and item.created_at == WARN
    n = Notification.objects.get(recipient=engineer, kind="clock_warning")
    assert item.notification_id == n.pk and item.title == n.subject
    assert item.event_key == f"clock:{clock.pk}:warning:user:{engineer.pk}"
    # The sweep runs again: nothing new.
    clocks_sweep(now=WARN + timedelta(minutes=5))
    assert InboxItem.objects.filter(kind="clock_warning").count() == 2


def test_two_channels_one_item_and_a_re_enqueue_makes_no_duplicate(engineer):
    key = f"incident:7:call:user:{engineer.pk}"
    both = [_msg(key=f"{key}:email", address=engineer.email, recipient_id=engineer.pk),
            _msg(key=f"{key}:sms", channel="sms", address="13800000000", recipient_id=engineer.pk)]
    assert len(notifications_enqueue(messages=both, now=T0)) == 2
    assert Notification.objects.count() == 2
    assert list(InboxItem.objects.values_list("user_id", "event_key")) == [(engineer.pk, key)]
    # The same messages again (a retried task), and the SMS alone later: still one item.
    assert notifications_enqueue(messages=both, now=T0 + timedelta(minutes=1)) == []
    notifications_enqueue(messages=[_msg(key=f"{key}:sms", channel="sms", address="139",
                                         recipient_id=engineer.pk)], now=T0)
    assert InboxItem.objects.count() == 1


def test_event_key_drops_channel_and_address():
    assert event_key(_msg(key="sr:1:entry:2:email:a@b.test")) == "sr:1:entry:2"
    assert event_key(_msg(key="phone-lock:3:user:4:email")) == "phone-lock:3:user:4"
    assert event_key(_msg(key="visit:5:ics:2")) == "visit:5:ics:2"
    assert event_key(_msg(key="x:1:sms", inbox_key="explicit")) == "explicit"


def test_customer_user_gets_own_customers_events_only(alice, customer_a, charlie):
    own = f.ContractFactory(customer=customer_a)
    other = f.ContractFactory(customer=charlie.customer_link.customer)
    contact = f.AuthorizedContactFactory(customer=customer_a)  # no login: no item
    notifications_enqueue(messages=[
        _msg(key="report:1:email:x", address=alice.email.upper(), related=own),  # by address
        _msg(key="report:2:email:x", address=alice.email, related=other),  # another customer's
        _msg(key="report:3:email:x", address=alice.email, recipient_id=alice.pk, related=other),
        _msg(key="report:4:email:x", address=alice.email),  # about nothing customer-bound
        _msg(key="report:5:email:x", address=contact.email, related=own),
    ], now=T0)
    assert Notification.objects.count() == 5
    assert list(InboxItem.objects.values_list("user_id", "event_key")) == [(alice.pk, "report:1")]
    assert not InboxItem.objects.filter(user=charlie).exists()


def test_staff_by_address_and_inactive_users(engineer, specialist):
    plain = f.UserFactory(username="nobody")  # neither staff nor a customer's login
    specialist.is_active = False
    specialist.save()
    notifications_enqueue(messages=[
        _msg(key="a:1:email", address=engineer.email),
        _msg(key="a:2:email", address=plain.email),
        _msg(key="a:3:email", address=specialist.email, recipient_id=specialist.pk),
    ], now=T0)
    assert list(InboxItem.objects.values_list("user_id", "event_key")) == [(engineer.pk, "a:1")]


# --- The header --------------------------------------------------------------------------

def test_header_badge_counts_unread_with_one_query(engineer):
    c = _login(engineer)
    assert 'class="inbox-count"' in c.get(reverse("home")).content.decode()  # 0: hidden
    for i in range(3):
        _item(engineer, key=f"b:{i}:email")
    with CaptureQueriesContext(connection) as q:
        html = c.get(reverse("home")).content.decode()
    assert [x["sql"] for x in q.captured_queries if "notifications_inboxitem" in x["sql"]].__len__() == 1
    assert '<span class="inbox-count" aria-label=' in html and ">3</span>" in html
    assert reverse("notifications:inbox") in html


def test_header_badge_caps_at_99_plus(engineer):
    notifications_enqueue(messages=[_msg(key=f"c:{i}:email", address=engineer.email,
                                         recipient_id=engineer.pk) for i in range(100)], now=T0)
    html = _login(engineer).get(reverse("home")).content.decode()
    assert ">99+</span>" in html


def test_anonymous_pages_have_no_badge_and_inbox_redirects(client):
    r = client.get(reverse("notifications:inbox"))
    assert r.status_code == 302 and reverse("login") in r["Location"]
    assert client.post(reverse("notifications:inbox_read_all")).status_code == 302
    assert "inbox-badge" not in client.get(reverse("login")).content.decode()


# --- The page --------------------------------------------------------------------------

def test_inbox_page_lists_own_items_newest_first_unread_highlighted(alice, customer_a, charlie):
    contract = f.ContractFactory(customer=customer_a)
    first = _item(alice, key="d:1:email", related=contract, title="第一条")
    second = _item(alice, key="d:2:email", related=contract, title="第二条")
    InboxItem.objects.filter(pk=second.pk).update(created_at=T0 + timedelta(minutes=1))
    _item(charlie, key="d:3:email", related=f.ContractFactory(customer=charlie.customer_link.customer),
          title="别人的")
    InboxItem.objects.filter(pk=first.pk).update(read_at=T0)
    html = _login(alice).get(reverse("notifications:inbox")).content.decode()
    assert html.index("第二条") < html.index("第一条") and "别人的" not in html
    assert f'class="inbox-item unread" id="inbox-item-{second.pk}"' in html
    assert f'class="inbox-item" id="inbox-item-{first.pk}"' in html
    assert reverse("notifications:inbox_open", args=[second.pk]) in html
    unread = _login(alice).get(reverse("notifications:inbox"), {"show": "unread"}).content.decode()
    assert "第二条" in unread and "第一条" not in unread
    # A bad filter value is ignored with a message, never an error.
    assert _login(alice).get(reverse("notifications:inbox"), {"show": "x"}).status_code == 200


def test_mark_read_read_all_and_open(engineer):
    contract = f.ContractFactory()
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    a = _item(engineer, key="e:1:email", related=clock)
    b = _item(engineer, key="e:2:email")
    c3 = _item(engineer, key="e:3:email")
    c = _login(engineer)
    r = c.post(reverse("notifications:inbox_read", args=[b.pk]),
               {"next": reverse("notifications:inbox") + "?page=1"})
    assert r.status_code == 302 and r["Location"] == reverse("notifications:inbox") + "?page=1"
    b.refresh_from_db()
    assert b.read_at is not None
    # Open: marked read, then to what it is about (the inbox when it has no page).
    r = c.get(reverse("notifications:inbox_open", args=[a.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("sla:clock_detail", args=[clock.pk])
    a.refresh_from_db()
    assert a.read_at is not None
    assert c.get(reverse("notifications:inbox_open", args=[b.pk]))["Location"] == reverse("notifications:inbox")
    # An off-site "next" is not followed.
    r = c.post(reverse("notifications:inbox_read_all"), {"next": "https://evil.test/"})
    assert r["Location"] == reverse("notifications:inbox")
    c3.refresh_from_db()
    assert c3.read_at is not None
    assert not InboxItem.objects.filter(user=engineer, read_at__isnull=True).exists()


def test_another_users_item_is_404_on_the_page(alice, charlie):
    theirs = _item(charlie, key="g:1:email", related=charlie.customer_link.customer)
    c = _login(alice)
    assert c.get(reverse("notifications:inbox_open", args=[theirs.pk])).status_code == 404
    assert c.post(reverse("notifications:inbox_read", args=[theirs.pk])).status_code == 404
    assert c.post(reverse("notifications:inbox_read", args=[999999])).status_code == 404
    c.post(reverse("notifications:inbox_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- The API ---------------------------------------------------------------------------

def test_api_list_count_read_and_read_all(alice, customer_a):
    contract = f.ContractFactory(customer=customer_a)
    a = _item(alice, key="h:1:email", related=contract)
    b = _item(alice, key="h:2:email", related=contract)
    api = _api(alice)
    r = api.get("/api/inbox/")
    assert r.status_code == 200 and [x["id"] for x in r.json()["results"]] == [b.pk, a.pk]
    row = next(x for x in r.json()["results"] if x["id"] == a.pk)
    assert row["unread"] is True and row["related_type"] == "customers.contract"
    assert row["open_url"] == reverse("notifications:inbox_open", args=[a.pk])
    assert api.get("/api/inbox/unread-count/").json() == {"unread": 2}
    r = api.post(f"/api/inbox/{a.pk}/read/")
    assert r.status_code == 200 and r.json()["unread"] is False and r.json()["read_at"]
    assert [x["id"] for x in api.get("/api/inbox/", {"unread": "true"}).json()["results"]] == [b.pk]
    assert [x["id"] for x in api.get("/api/inbox/", {"unread": "false"}).json()["results"]] == [a.pk]
    r = api.get("/api/inbox/", {"unread": "maybe"})
    assert r.status_code == 400 and "unread" in r.json()["errors"]
    assert api.post("/api/inbox/read-all/").json() == {"marked": 1, "unread": 0}
    assert api.get("/api/inbox/unread-count/").json() == {"unread": 0}


def test_api_another_users_item_is_404_and_anonymous_401(alice, charlie):
    theirs = _item(charlie, key="i:1:email", related=charlie.customer_link.customer)
    api = _api(alice)
    assert api.post(f"/api/inbox/{theirs.pk}/read/").status_code == 404
    assert api.get("/api/inbox/").json()["results"] == []
    assert api.get("/api/inbox/unread-count/").json() == {"unread": 0}
    anon = _api(None)
    for method, url in (("get", "/api/inbox/"), ("get", "/api/inbox/unread-count/"),
                        ("post", f"/api/inbox/{theirs.pk}/read/"), ("post", "/api/inbox/read-all/")):
        assert getattr(anon, method)(url).status_code == 401
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_page_labels_in_english(engineer):
    _item(engineer, key="j:1:email", title="标题 j")
    c = _login(engineer)
    c.cookies["django_language"] = "en"
    html = c.get(reverse("notifications:inbox")).content.decode()
    assert "My notifications" in html and "Mark all read" in html and "Mark read" in html
    assert "标题 j" in html  # the title is the message's subject, as sent
