from django.apps import AppConfig


class BenchmarkConfig(AppConfig):
    name = "leaderboard.benchmark"
    label = "benchmark"
    verbose_name = "NaVAB benchmark data"
