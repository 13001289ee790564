from django.urls import path

from . import views

urlpatterns = [
    path("credits/", views.CreditCollectionApi.as_view(), name="api-credit-list"),
    path("credits/apply/", views.CreditBulkApplyApi.as_view(), name="api-credit-bulk-apply"),
    path("credits/export/", views.CreditExportApi.as_view(), name="api-credit-export"),
    path("credits/<int:pk>/", views.CreditDetailApi.as_view(), name="api-credit-detail"),
    path("credits/<int:pk>/approve/", views.CreditApproveApi.as_view(), name="api-credit-approve"),
    path("credits/<int:pk>/reject/", views.CreditRejectApi.as_view(), name="api-credit-reject"),
    path("credits/<int:pk>/apply/", views.CreditApplyApi.as_view(), name="api-credit-apply"),
    path("credits/<int:pk>/reverse/", views.CreditReverseApi.as_view(), name="api-credit-reverse"),
]
