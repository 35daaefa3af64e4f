from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "leaderboard.evals"
    label = "evals"
    verbose_name = "Models and evaluations"

    def ready(self) -> None:
        from leaderboard import lookups  # noqa: F401  (registers `__any`)
        from leaderboard.evals import receivers  # noqa: F401  (connects signal handlers)
