from django.urls import path

from . import statement_views, views

urlpatterns = [
    path("months/", views.MonthListApi.as_view(), name="api-month-list"),
    path("months/close/", views.MonthCloseApi.as_view(), name="api-month-close"),
    path("judgements/", views.JudgementListApi.as_view(), name="api-judgement-list"),
    path("judgements/<int:pk>/", views.JudgementDetailApi.as_view(), name="api-judgement-detail"),
    # Monthly statements (settlement/api/statement_views.py)
    path("statements/", statement_views.StatementCollectionApi.as_view(), name="api-statement-list"),
    path("statements/request/", statement_views.StatementRequestApi.as_view(), name="api-statement-request"),
    path("statements/<int:pk>/", statement_views.StatementDetailApi.as_view(), name="api-statement-detail"),
    path("statements/<int:pk>/pdf", statement_views.StatementPdfApi.as_view(), name="api-statement-pdf"),
    path("statements/<int:pk>/versions/<int:report_pk>/pdf", statement_views.StatementVersionPdfApi.as_view(),
         name="api-statement-version-pdf"),
]
