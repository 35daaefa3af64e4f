from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "leaderboard.boards"
    label = "boards"
    verbose_name = "Leaderboards"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from leaderboard.boards import receivers  # noqa: F401  (connects the signal handlers)
        from leaderboard.boards.cache import hold_stores, store_held

        request_started.connect(hold_stores, dispatch_uid="boards-hold-stores")
        request_finished.connect(store_held, dispatch_uid="boards-store-held")
