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
