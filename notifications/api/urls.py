from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="api-notification-list"),
    path("notifications/<int:pk>/", views.NotificationDetailApi.as_view(),
         name="api-notification-detail"),
]
