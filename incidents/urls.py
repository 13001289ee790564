from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list_view, name="list"),
    path("report/", views.customer_report, name="report"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    *[path(f"<int:pk>/{a}/", views.incident_action, {"action": a}, name=a) for a in views.ACTIONS],
    path("<int:pk>/attempts/<int:attempt_pk>/record/", views.attempt_record, name="attempt_record"),
    path("<int:pk>/outages/<int:outage_pk>/classify/", views.outage_classify, name="outage_classify"),
    path("ack/<str:token>/", views.acknowledge_link, name="ack"),
    path("outages/new/", views.outage_create, name="outage_create"),
    path("services/<int:service_pk>/downtime/", views.downtime, name="downtime"),
]
