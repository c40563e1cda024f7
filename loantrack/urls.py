from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core import views as core_views

admin.site.site_header = _("LoanTrack administration")
admin.site.site_title = _("LoanTrack")

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("applications/", include("applications.urls")),
    path("loans/", include("postloan.urls")),
    path("followups/", include("followups.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("notifications/", include("notifications.urls")),
    path("portal/", include("portal.urls")),
    path("", include("accounts.urls")),
]

if settings.LOANTRACK_BENCH:
    from core import bench

    urlpatterns.insert(0, path("bench/baseline/<int:pk>/", bench.baseline, name="bench_baseline"))

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
