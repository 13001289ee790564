from django.urls import path

from . import views

urlpatterns = [
    path("incidents/", views.IncidentCollectionApi.as_view(), name="api-incident-list"),
    path("incidents/<int:pk>/", views.IncidentDetailApi.as_view(), name="api-incident-detail"),
    path("incidents/<int:pk>/acknowledge/", views.IncidentAcknowledgeApi.as_view(), name="api-incident-acknowledge"),
    path("incidents/<int:pk>/declare/", views.IncidentDeclareApi.as_view(), name="api-incident-declare"),
    path("incidents/<int:pk>/resolve/", views.IncidentResolveApi.as_view(), name="api-incident-resolve"),
    path("incidents/<int:pk>/close/", views.IncidentCloseApi.as_view(), name="api-incident-close"),
    path("incidents/<int:pk>/exempt/", views.IncidentExemptApi.as_view(), name="api-incident-exempt"),
    path("notice-attempts/<int:pk>/record-call/", views.NoticeAttemptRecordApi.as_view(),
         name="api-notice-attempt-record"),
    path("outages/", views.OutageCollectionApi.as_view(), name="api-outage-list"),
    path("outages/<int:pk>/", views.OutageDetailApi.as_view(), name="api-outage-detail"),
    path("outages/<int:pk>/classify/", views.OutageClassifyApi.as_view(), name="api-outage-classify"),
    path("downtime/<int:pk>/", views.DowntimeApi.as_view(), name="api-service-downtime"),
    path("webhooks/alerts/", views.WebhookApi.as_view(), name="api-webhook-alerts"),
    path("facility-events/", views.FacilityEventCollectionApi.as_view(), name="api-facility-event-list"),
    path("facility-events/<int:pk>/", views.FacilityEventDetailApi.as_view(), name="api-facility-event-detail"),
    path("facility-events/<int:pk>/end/", views.FacilityEventEndApi.as_view(), name="api-facility-event-end"),
    path("facility-events/<int:pk>/classify/", views.FacilityEventClassifyApi.as_view(),
         name="api-facility-event-classify"),
]
