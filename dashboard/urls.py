from django.urls import path

from . import export_views, import_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/new/", export_views.export_create, name="export_create"),
    path("exports/<int:pk>/", export_views.export_detail, name="export_detail"),
    path("exports/<int:pk>/progress/", export_views.export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("imports/", import_views.import_list, name="imports"),
    path("imports/template/<slug:kind>.<slug:file_format>", import_views.import_template, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/start/", import_views.import_start, name="import_start"),
    path("<slug:tab>/refresh/", views.dashboard_refresh, name="refresh"),
    path("<slug:tab>/", views.dashboard, name="tab"),
]
