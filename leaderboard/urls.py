from django.contrib import admin
from django.urls import include, path, register_converter

from leaderboard import redirects
from leaderboard.boards import urls as boards_urls
from leaderboard.catalog import urls as benchmark_urls
from leaderboard.converters import BenchmarkConverter

register_converter(BenchmarkConverter, "benchmark")

urlpatterns = [
    path("", include("leaderboard.catalog.urls")),
    path("", include("leaderboard.evals.urls")),
    path("", include("leaderboard.boards.urls")),
    path("", include(redirects.urlpatterns)),
    path("accounts/", include("leaderboard.accounts.urls")),
    path("pipeline/", include("leaderboard.pipeline_runs.urls")),
    path("api/", include("leaderboard.api.urls")),
    path("admin/", admin.site.urls),
    # Last: a benchmark's pages, `/<slug>/board/` and so on, one set for every benchmark.
    path(
        "<benchmark:benchmark>/",
        include(benchmark_urls.benchmark_urlpatterns + boards_urls.benchmark_urlpatterns),
    ),
]

handler400 = "leaderboard.errors.bad_request"
handler403 = "leaderboard.errors.permission_denied"
handler404 = "leaderboard.errors.page_not_found"
handler500 = "leaderboard.errors.server_error"
