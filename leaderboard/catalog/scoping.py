"""Which benchmark an API request is about.

Every benchmark's data and results live under `/api/benchmarks/<slug>/...`; today's
addresses (`/api/releases/`, `/api/triples/`, `/api/leaderboard/`) keep answering as NaVAB's,
the benchmark they were written for: the same viewsets with the benchmark fixed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.catalog.models import Benchmark
from leaderboard.converters import BenchmarkConverter

#: the only benchmark the site hosted when its first URLs were published (pages and API)
LEGACY_BENCHMARK: Final = "navab"

# The benchmark today's un-prefixed endpoints serve, as the pages' old URLs do.

#: what each benchmark has under its own address
BENCHMARK_RESOURCES = ("releases", "items", "leaderboard", "disparity")
#: the URL keyword holding the benchmark's slug
BENCHMARK_KWARG = "benchmark_slug"

BENCHMARK_PARAMETER = OpenApiParameter(
    BENCHMARK_KWARG,
    str,
    OpenApiParameter.PATH,
    description="A hosted benchmark's slug (see /api/benchmarks/).",
)

# Today's addresses have the benchmark fixed: their operations take no such parameter.
NO_BENCHMARK_PARAMETER = OpenApiParameter(BENCHMARK_KWARG, str, OpenApiParameter.PATH, exclude=True)


def under_benchmark(resource: str) -> str:
    """The router prefix of a resource that belongs to one benchmark."""
    return rf"benchmarks/(?P<{BENCHMARK_KWARG}>{BenchmarkConverter.regex})/{resource}"


def legacy_note(path: str) -> str:
    """Says in the schema that an un-prefixed endpoint is NaVAB's."""
    return (
        f"NaVAB's, at its address from before the site hosted several benchmarks: the same as "
        f"`/api/benchmarks/{LEGACY_BENCHMARK}/{path}`."
    )


class BenchmarkScoped:
    """A viewset mixin: the benchmark named in the URL, or the fixed one of a legacy alias."""

    #: set by the aliases at today's addresses
    fixed_benchmark: ClassVar[str | None] = None
    kwargs: dict[str, Any]

    @property
    def benchmark_slug(self) -> str | None:
        """None while the schema is generated (no URL), for the generic viewsets."""
        return self.fixed_benchmark or getattr(self, "kwargs", {}).get(BENCHMARK_KWARG)

    def benchmark_row(self) -> Benchmark:
        slug = self.benchmark_slug
        row = Benchmark.objects.filter(slug=slug).first() if slug in benchmark_slugs() else None
        if row is None:
            raise NotFound(f"No benchmark {slug!r}")
        return row

    def declaration(self) -> BenchmarkDefinition:
        return get_benchmark(self.benchmark_row().slug)


def describe_benchmarks(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the benchmark path parameter takes the slugs
    registered when the schema is served (benchmarks registered at run time included)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == BENCHMARK_KWARG and parameter.get("in") == "path":
                    parameter["schema"] = {"type": "string", "enum": benchmark_slugs()}
    return result
