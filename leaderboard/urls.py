from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("leaderboard.benchmark.urls")),
    path("", include("leaderboard.evals.urls")),
    path("", include("leaderboard.boards.urls")),
    path("accounts/", include("leaderboard.accounts.urls")),
    path("pipeline/", include("leaderboard.pipelines.urls")),
    path("api/", include("leaderboard.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "leaderboard.errors.bad_request"
handler403 = "leaderboard.errors.permission_denied"
handler404 = "leaderboard.errors.page_not_found"
handler500 = "leaderboard.errors.server_error"
