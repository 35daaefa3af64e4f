from django.urls import path

from leaderboard.boards.views import board, models

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/export.<str:fmt>", board.board_export, name="board-export"),
    path("models/<int:pk>/", models.model_detail, name="model-detail"),
]
