from django.urls import path

from . import views

app_name = "mailservice"

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("services/<int:pk>/domains/new/", views.domain_create, name="domain_create"),
    path("platforms/", views.platform_list, name="platform_list"),
    path("platforms/new/", views.platform_form, name="platform_create"),
    path("platforms/<int:pk>/", views.platform_detail, name="platform_detail"),
    path("platforms/<int:pk>/edit/", views.platform_form, name="platform_edit"),
    path("platforms/<int:pk>/events/new/", views.event_create, name="event_create"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/end/", views.event_end, name="event_end"),
    path("events/<int:pk>/delete/", views.event_delete, name="event_delete"),
    path("billing/", views.billing, name="billing"),
]
