from django.urls import path

from ..choices import StepCode
from . import views

urlpatterns = [
    path("spam-cases/", views.CaseCollectionApi.as_view(), name="api-spam-case-list"),
    path("spam-cases/<int:pk>/", views.CaseDetailApi.as_view(), name="api-spam-case-detail"),
    # One POST sub-route per step, named after it: /api/spam-cases/42/block-source/
    *[path(f"spam-cases/<int:pk>/{code.replace('_', '-')}/", views.step_api(code).as_view(),
           name=f"api-spam-case-{code.replace('_', '-')}") for code in StepCode.values],
    path("spam-cases/<int:pk>/evidence/", views.EvidenceCollectionApi.as_view(), name="api-spam-case-evidence"),
    path("spam-cases/<int:pk>/evidence/<int:evidence_pk>/", views.EvidenceDownloadApi.as_view(),
         name="api-spam-case-evidence-download"),
    path("spam-cases/<int:pk>/kind/", views.CaseKindApi.as_view(), name="api-spam-case-kind"),
    path("spam-cases/<int:pk>/close/", views.CaseCloseApi.as_view(), name="api-spam-case-close"),
    path("isc-publications/", views.PublicationCollectionApi.as_view(), name="api-isc-publication-list"),
    path("isc-publications/<int:pk>/", views.PublicationDetailApi.as_view(), name="api-isc-publication-detail"),
    path("isc-publications/<int:pk>/process/", views.PublicationProcessApi.as_view(),
         name="api-isc-publication-process"),
    path("blacklist-listings/", views.ListingCollectionApi.as_view(), name="api-blacklist-listing-list"),
    path("blacklist-listings/<int:pk>/", views.ListingDetailApi.as_view(), name="api-blacklist-listing-detail"),
    path("blacklist-listings/<int:pk>/report/", views.ListingReportApi.as_view(), name="api-blacklist-listing-report"),
    path("abuse-desk/", views.DeskApi.as_view(), name="api-abuse-desk"),
]
