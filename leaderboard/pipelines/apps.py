from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "leaderboard.pipelines"
    label = "pipelines"
    verbose_name = "Dataset pipeline runs"
