from django.urls import path

from . import views

urlpatterns = [
    path("operations/", views.OperationCollectionApi.as_view(), name="api-operation-list"),
    path("operations/<int:pk>/", views.OperationDetailApi.as_view(), name="api-operation-detail"),
    path("operations/<int:pk>/written-authorizations/", views.WrittenAuthorizationApi.as_view(),
         name="api-operation-written-authorization"),
    path("operations/<int:pk>/phone-authorizations/", views.PhoneAuthorizationApi.as_view(),
         name="api-operation-phone-authorization"),
    path("operations/<int:pk>/authorizations/<int:auth_pk>/file/", views.AuthorizationFileApi.as_view(),
         name="api-operation-authorization-file"),
    path("operations/<int:pk>/authorizations/<int:auth_pk>/accept/",
         views.AuthorizationAcceptApi.as_view(), name="api-operation-authorization-accept"),
    path("operations/<int:pk>/authorizations/<int:auth_pk>/reject/",
         views.AuthorizationRejectApi.as_view(), name="api-operation-authorization-reject"),
    path("operations/<int:pk>/refuse/", views.OperationRefuseApi.as_view(), name="api-operation-refuse"),
    path("operations/<int:pk>/cancel/", views.OperationCancelApi.as_view(), name="api-operation-cancel"),
    path("operations/<int:pk>/start/", views.OperationStartApi.as_view(), name="api-operation-start"),
    path("operations/<int:pk>/steps/", views.OperationStepApi.as_view(), name="api-operation-steps"),
    path("operations/<int:pk>/messages/", views.OperationFeedbackApi.as_view(),
         name="api-operation-messages"),
    path("operations/<int:pk>/finish/", views.OperationFinishApi.as_view(), name="api-operation-finish"),
    path("operations/<int:pk>/reports/", views.OperationReportApi.as_view(), name="api-operation-reports"),
    path("operations/<int:pk>/reports/<int:report_pk>/pdf/", views.OperationReportPdfApi.as_view(),
         name="api-operation-report-pdf"),
    path("operations/<int:pk>/close/", views.OperationCloseApi.as_view(), name="api-operation-close"),
]
