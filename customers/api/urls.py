from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.CustomerCollectionApi.as_view(), name="api-customer-list"),
    path("customers/<int:pk>/", views.CustomerDetailApi.as_view(), name="api-customer-detail"),
    path("contracts/", views.ContractCollectionApi.as_view(), name="api-contract-list"),
    path("contracts/<int:pk>/", views.ContractDetailApi.as_view(), name="api-contract-detail"),
    path("services/", views.ServiceCollectionApi.as_view(), name="api-service-list"),
    path("services/<int:pk>/", views.ServiceDetailApi.as_view(), name="api-service-detail"),
    path("contacts/", views.ContactCollectionApi.as_view(), name="api-contact-list"),
    path("contacts/<int:pk>/", views.ContactDetailApi.as_view(), name="api-contact-detail"),
]
