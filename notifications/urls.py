from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/test/", views.outbox_test, name="outbox_test"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
]
