from django.urls import path

from . import views

urlpatterns = [
    path("targets/", views.TargetCollectionApi.as_view(), name="api-target-list"),
    path("targets/<int:pk>/", views.TargetDetailApi.as_view(), name="api-target-detail"),
    path("mailboxes/", views.MailboxCollectionApi.as_view(), name="api-mailbox-list"),
    path("mailboxes/<int:pk>/", views.MailboxDetailApi.as_view(), name="api-mailbox-detail"),
    path("status/", views.StatusApi.as_view(), name="api-status"),
]
