from django.urls import path

from . import views

urlpatterns = [
    path("complaints/", views.ComplaintCollectionApi.as_view(), name="api-complaint-list"),
    path("complaints/<int:pk>/", views.ComplaintDetailApi.as_view(), name="api-complaint-detail"),
    path("complaints/<int:pk>/accept/", views.ComplaintAcceptApi.as_view(), name="api-complaint-accept"),
    path("complaints/<int:pk>/investigate/", views.ComplaintInvestigateApi.as_view(),
         name="api-complaint-investigate"),
    path("complaints/<int:pk>/resolve/", views.ComplaintResolveApi.as_view(), name="api-complaint-resolve"),
    path("complaints/<int:pk>/close/", views.ComplaintCloseApi.as_view(), name="api-complaint-close"),
    path("complaints/<int:pk>/reopen/", views.ComplaintReopenApi.as_view(), name="api-complaint-reopen"),
    path("complaints/<int:pk>/withdraw/", views.ComplaintWithdrawApi.as_view(),
         name="api-complaint-withdraw"),
    path("complaints/<int:pk>/reports/", views.ComplaintReportCollectionApi.as_view(),
         name="api-complaint-reports"),
    path("complaints/<int:pk>/reports/<int:report_pk>/pdf/", views.ComplaintReportPdfApi.as_view(),
         name="api-complaint-report-pdf"),
    path("complaints/<int:pk>/attachments/", views.ComplaintAttachmentCollectionApi.as_view(),
         name="api-complaint-attachments"),
    path("complaints/<int:pk>/attachments/<int:attachment_pk>/download/",
         views.ComplaintAttachmentDownloadApi.as_view(), name="api-complaint-attachment-download"),
]
