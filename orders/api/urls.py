from django.urls import path

from . import views

urlpatterns = [
    path("installation-orders/", views.OrderCollectionApi.as_view(), name="api-installation-order-list"),
    path("installation-orders/<int:pk>/", views.OrderDetailApi.as_view(),
         name="api-installation-order-detail"),
    path("installation-orders/<int:pk>/items/<slug:code>/done/", views.OrderItemDoneApi.as_view(),
         name="api-installation-order-item-done"),
    path("installation-orders/<int:pk>/items/<slug:code>/undo/", views.OrderItemUndoApi.as_view(),
         name="api-installation-order-item-undo"),
    path("installation-orders/<int:pk>/pause/", views.OrderPauseApi.as_view(),
         name="api-installation-order-pause"),
    path("installation-orders/<int:pk>/resume/", views.OrderResumeApi.as_view(),
         name="api-installation-order-resume"),
    path("installation-orders/<int:pk>/complete/", views.OrderCompleteApi.as_view(),
         name="api-installation-order-complete"),
    path("installation-orders/<int:pk>/cancel/", views.OrderCancelApi.as_view(),
         name="api-installation-order-cancel"),
]
