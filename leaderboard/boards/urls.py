from django.urls import path

from leaderboard.boards.views import board, compare, methodology, models

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/export.<str:fmt>", board.board_export, name="board-export"),
    path("models/<int:pk>/", models.model_detail, name="model-detail"),
    path("compare/", compare.compare_models, name="compare"),
    path("methodology/", methodology.methodology, name="methodology"),
]
