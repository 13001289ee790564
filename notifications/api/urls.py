from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="api-notification-list"),
    path("notifications/<int:pk>/", views.NotificationDetailApi.as_view(),
         name="api-notification-detail"),
    path("inbox/", views.InboxListApi.as_view(), name="api-inbox-list"),
    path("inbox/unread-count/", views.InboxUnreadCountApi.as_view(), name="api-inbox-unread-count"),
    path("inbox/read-all/", views.InboxReadAllApi.as_view(), name="api-inbox-read-all"),
    path("inbox/<int:pk>/read/", views.InboxReadApi.as_view(), name="api-inbox-read"),
]
