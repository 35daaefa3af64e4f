from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    from leaderboard.catalog.models import Benchmark
    from leaderboard.catalog.registry_sync import sync_benchmarks

    sync_benchmarks(Benchmark)


class CatalogConfig(AppConfig):
    name = "leaderboard.catalog"
    # The package was `leaderboard.benchmark`; the label stays "benchmark" because it names the
    # tables (benchmark_item, ...), the migration history, content types and permissions of
    # databases already deployed: changing it would orphan them.
    label = "benchmark"
    verbose_name = "Benchmark catalogue"

    def ready(self) -> None:
        # A benchmark registered after the migrations ran gets its row at the next migrate.
        post_migrate.connect(_sync_after_migrate, sender=self)
        from leaderboard.catalog import checks  # noqa: F401  (registers the system check)
