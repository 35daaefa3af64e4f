"""One router for the whole API; each app keeps its viewsets in its own `api` module."""

from typing import Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import APIRootView, DefaultRouter

from evaluation.benchmarks import benchmark_slugs
from leaderboard.boards import api as boards_api
from leaderboard.boards.agreement_api import AgreementViewSet
from leaderboard.boards.alignment_api import AlignmentEffectViewSet
from leaderboard.boards.judges_api import JudgesViewSet
from leaderboard.boards.model_profile_api import (
    model_alignment_effects_view,
    model_reported_view,
)
from leaderboard.catalog import api as benchmark_api
from leaderboard.catalog.api import benchmark_links
from leaderboard.catalog.scoping import under_benchmark
from leaderboard.evals import api as evals_api


class APIRoot(APIRootView):
    """The API's entry points: each benchmark's own endpoints (`/api/benchmarks/<slug>/...`),
    the site-wide ones, and NaVAB's endpoints at their addresses from before the site hosted
    several benchmarks (`nations`, `modes`, `releases`, `triples`, `leaderboard`)."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response.data = {
            "per_benchmark": {
                slug: {
                    key: request.build_absolute_uri(path)
                    for key, path in benchmark_links(slug).items()
                }
                for slug in benchmark_slugs()
            },
            **response.data,
            "navab_aliases": [f"/api/{key}/" for key in LEGACY_ALIASES],
        }
        return response


class Router(DefaultRouter):
    APIRootView = APIRoot


LEGACY_ALIASES = ("nations", "modes", "releases", "triples", "leaderboard")
router = Router()
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
router.register(
    under_benchmark("reported"), boards_api.ReportedViewSet, basename="benchmark-reported"
)
router.register(under_benchmark("agreement"), AgreementViewSet, basename="benchmark-agreement")
router.register(under_benchmark("judges"), JudgesViewSet, basename="benchmark-judges")
router.register("models", evals_api.ModelViewSet, basename="model")
router.register("jobs", evals_api.JobViewSet, basename="job")
router.register("alignment-effects", AlignmentEffectViewSet, basename="alignment-effect")
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
    path("models/<int:pk>/reported/", model_reported_view, name="api-model-reported"),
    path(
        "models/<int:pk>/alignment-effects/",
        model_alignment_effects_view,
        name="api-model-alignment-effects",
    ),
    path("", include((router.urls, "api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
