from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list_view, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/items/<slug:code>/done/", views.item_done, name="item_done"),
    path("<int:pk>/items/<slug:code>/undo/", views.item_undo, name="item_undo"),
    path("<int:pk>/pause/", views.order_pause, name="pause"),
    path("<int:pk>/resume/", views.order_resume, name="resume"),
    path("<int:pk>/complete/", views.order_complete, name="complete"),
    path("<int:pk>/cancel/", views.order_cancel, name="cancel"),
]

# E-mail provisioning orders (E5), next to the installation orders.
urlpatterns += [
    path("provisioning/", views.provisioning_list_view, name="provisioning_list"),
    path("provisioning/new/", views.provisioning_new, name="provisioning_new"),
    path("provisioning/<int:pk>/", views.provisioning_detail, name="provisioning_detail"),
    path("provisioning/<int:pk>/update/", views.provisioning_update, name="provisioning_update"),
    path("provisioning/<int:pk>/confirm-payment/", views.provisioning_confirm_payment,
         name="provisioning_confirm_payment"),
    path("provisioning/<int:pk>/items/<slug:code>/done/", views.provisioning_item_done,
         name="provisioning_item_done"),
    path("provisioning/<int:pk>/items/<slug:code>/undo/", views.provisioning_item_undo,
         name="provisioning_item_undo"),
    path("provisioning/<int:pk>/complete/", views.provisioning_complete, name="provisioning_complete"),
    path("provisioning/<int:pk>/cancel/", views.provisioning_cancel, name="provisioning_cancel"),
]
