"""One router for the whole API; each app keeps its viewsets in its own `api` module."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from leaderboard.benchmark import api as benchmark_api
from leaderboard.benchmark.scoping import under_benchmark
from leaderboard.boards import api as boards_api
from leaderboard.evals import api as evals_api

router = DefaultRouter()
router.register("benchmarks", benchmark_api.BenchmarkViewSet, basename="benchmark")
# Each benchmark's data and board, under its own address.
router.register(
    under_benchmark("releases"), benchmark_api.ReleaseViewSet, basename="benchmark-release"
)
router.register(under_benchmark("items"), benchmark_api.ItemViewSet, basename="benchmark-item")
router.register(
    under_benchmark("leaderboard"), boards_api.LeaderboardViewSet, basename="benchmark-leaderboard"
)
router.register(
    under_benchmark("disparity"), boards_api.DisparityViewSet, basename="benchmark-disparity"
)
router.register("models", evals_api.ModelViewSet, basename="model")
router.register("jobs", evals_api.JobViewSet, basename="job")
router.register("scores", evals_api.ScoreViewSet, basename="score")
router.register("samples", evals_api.JobSampleViewSet, basename="sample")
# Today's addresses, NaVAB's (see benchmark.scoping).
router.register("nations", benchmark_api.NationViewSet, basename="nation")
router.register("modes", benchmark_api.ModeViewSet, basename="mode")
router.register("releases", benchmark_api.LegacyReleaseViewSet, basename="release")
router.register("triples", benchmark_api.LegacyItemViewSet, basename="triple")
router.register("leaderboard", boards_api.LegacyLeaderboardViewSet, basename="leaderboard")

urlpatterns = [
    # Namespaced, because the router's names (release-list, job-detail, ...) would otherwise
    # shadow the HTML pages of the same name: reverse() returns the last pattern defined.
    path("", include((router.urls, "api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
