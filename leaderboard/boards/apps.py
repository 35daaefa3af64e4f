from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "leaderboard.boards"
    label = "boards"
    verbose_name = "Leaderboards"

    def ready(self) -> None:
        from leaderboard.boards import receivers  # noqa: F401  (connects the signal handlers)
