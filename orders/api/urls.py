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

# E-mail provisioning orders (E5): actions are POST sub-routes named after the transitions.
urlpatterns += [
    path("provisioning-orders/", views.ProvisioningCollectionApi.as_view(), name="api-provisioning-order-list"),
    path("provisioning-orders/<int:pk>/", views.ProvisioningDetailApi.as_view(),
         name="api-provisioning-order-detail"),
    path("provisioning-orders/<int:pk>/update/", views.ProvisioningUpdateApi.as_view(),
         name="api-provisioning-order-update"),
    path("provisioning-orders/<int:pk>/confirm-payment/", views.ProvisioningConfirmPaymentApi.as_view(),
         name="api-provisioning-order-confirm-payment"),
    path("provisioning-orders/<int:pk>/items/<slug:code>/done/", views.ProvisioningItemDoneApi.as_view(),
         name="api-provisioning-order-item-done"),
    path("provisioning-orders/<int:pk>/items/<slug:code>/undo/", views.ProvisioningItemUndoApi.as_view(),
         name="api-provisioning-order-item-undo"),
    path("provisioning-orders/<int:pk>/complete/", views.ProvisioningCompleteApi.as_view(),
         name="api-provisioning-order-complete"),
    path("provisioning-orders/<int:pk>/cancel/", views.ProvisioningCancelApi.as_view(),
         name="api-provisioning-order-cancel"),
]
