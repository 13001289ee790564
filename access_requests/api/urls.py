from django.urls import path

from . import views

urlpatterns = [
    path("visits/", views.VisitCollectionApi.as_view(), name="api-visit-list"),
    path("visits/door-lookup/", views.VisitDoorLookupApi.as_view(), name="api-visit-door-lookup"),
    path("visits/<int:pk>/", views.VisitDetailApi.as_view(), name="api-visit-detail"),
    path("visits/<int:pk>/approve/", views.VisitApproveApi.as_view(), name="api-visit-approve"),
    path("visits/<int:pk>/decline/", views.VisitDeclineApi.as_view(), name="api-visit-decline"),
    path("visits/<int:pk>/cancel/", views.VisitCancelApi.as_view(), name="api-visit-cancel"),
    path("visits/<int:pk>/escort/", views.VisitEscortApi.as_view(), name="api-visit-escort"),
    path("visits/<int:pk>/close/", views.VisitCloseApi.as_view(), name="api-visit-close"),
    path("visits/<int:pk>/door/", views.VisitDoorApi.as_view(), name="api-visit-door"),
    path("visits/<int:pk>/check-in/", views.VisitCheckInApi.as_view(), name="api-visit-check-in"),
    path("visits/<int:pk>/check-out/", views.VisitCheckOutApi.as_view(), name="api-visit-check-out"),
    path("visit-log/csv/", views.VisitLogCsvApi.as_view(), name="api-visit-log-csv"),
    path("visit-log/pdf/", views.VisitLogPdfApi.as_view(), name="api-visit-log-pdf"),
    path("rooms/", views.RoomListApi.as_view(), name="api-room-list"),
]
