from django.urls import path

from leaderboard.boards.views import board, compare, methodology, models, triple_results

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/export.<str:fmt>", board.board_export, name="board-export"),
    path("models/<int:pk>/", models.model_detail, name="model-detail"),
    path("compare/", compare.compare_models, name="compare"),
    path("methodology/", methodology.methodology, name="methodology"),
    path(
        "releases/<slug:version>/triples/<str:uid>/results/",
        triple_results.triple_results,
        name="triple-results",
    ),
]
