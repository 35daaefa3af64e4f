from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    from leaderboard.benchmark.models import Benchmark
    from leaderboard.benchmark.registry_sync import sync_benchmarks

    sync_benchmarks(Benchmark)


class BenchmarkConfig(AppConfig):
    name = "leaderboard.benchmark"
    label = "benchmark"
    verbose_name = "Benchmark data"

    def ready(self) -> None:
        # A benchmark registered after the migrations ran gets its row at the next migrate.
        post_migrate.connect(_sync_after_migrate, sender=self)
        from leaderboard.benchmark import checks  # noqa: F401  (registers the system check)
