from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list_view, name="list"),
    path("report/", views.customer_report, name="report"),
    path("new/", views.incident_create, name="create"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    *[path(f"<int:pk>/{a}/", views.incident_action, {"action": a}, name=a) for a in views.ACTIONS],
    path("<int:pk>/attempts/<int:attempt_pk>/record/", views.attempt_record, name="attempt_record"),
    path("<int:pk>/outages/<int:outage_pk>/classify/", views.outage_classify, name="outage_classify"),
    path("ack/<str:token>/", views.acknowledge_link, name="ack"),
    path("outages/new/", views.outage_create, name="outage_create"),
    path("services/<int:service_pk>/downtime/", views.downtime, name="downtime"),
    path("facility-events/", views.facility_event_list_view, name="facility_event_list"),
    path("facility-events/new/", views.facility_event_create, name="facility_event_create"),
    path("facility-events/<int:pk>/", views.facility_event_detail, name="facility_event_detail"),
    *[path(f"facility-events/<int:pk>/{a}/", views.facility_event_action, {"action": a},
           name=f"facility_event_{a}") for a in ("end", "classify")],
]
