from django.urls import path

from . import statement_views, views

app_name = "settlement"
urlpatterns = [
    path("", views.month_list, name="month_list"),
    path("close/", views.month_close_view, name="close"),
    path("<int:year>-<int:month>/", views.month_detail, name="month_detail"),
    path("judgements/<int:pk>/", views.judgement_detail, name="judgement_detail"),
    # Monthly statements (settlement/statement_views.py)
    path("statements/", statement_views.statement_list_view, name="statement_list"),
    path("statements/request/", statement_views.statement_request_view, name="statement_request"),
    path("statements/<int:customer_id>/<int:year>-<int:month>/", statement_views.statement_detail,
         name="statement_detail"),
    path("statements/<int:customer_id>/<int:year>-<int:month>/pdf", statement_views.statement_pdf,
         name="statement_pdf"),
    path("statements/<int:customer_id>/<int:year>-<int:month>/versions/<int:report_pk>/pdf",
         statement_views.statement_version_pdf, name="statement_version_pdf"),
]
