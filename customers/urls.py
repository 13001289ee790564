from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:customer_pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:customer_pk>/contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:customer_pk>/contracts/new/", views.contract_create, name="contract_create"),
]
