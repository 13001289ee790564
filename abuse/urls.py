from django.urls import path

from . import views

app_name = "abuse"
urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("cases/new/", views.case_create, name="create"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/steps/<slug:code>/", views.step_done, name="step_done"),
    path("cases/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("cases/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_download, name="evidence_download"),
    path("cases/<int:pk>/message/", views.raw_message, name="raw_message"),
    path("cases/<int:pk>/kind/", views.set_kind, name="set_kind"),
    path("cases/<int:pk>/close/", views.close, name="close"),
    path("cases/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("isc/", views.publications, name="publications"),
    path("isc/<int:pk>/process/", views.publication_process, name="publication_process"),
    path("listings/", views.listings, name="listings"),
    path("listings/<int:pk>/report/", views.listing_report, name="listing_report"),
    path("desk/", views.desk, name="desk"),
]
