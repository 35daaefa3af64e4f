from django.urls import path

from leaderboard.boards.views import (
    agreement,
    board,
    compare,
    disparity,
    item_results,
    judges,
    maps,
    methodology,
    models,
)

urlpatterns = [
    path("models/<int:pk>/", models.model_detail, name="model-detail"),
]

# Below `/<benchmark>/` (see leaderboard/urls.py).
benchmark_urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/export.<str:fmt>", board.board_export, name="board-export"),
    path("compare/", compare.compare_models, name="compare"),
    path("agreement/", agreement.method_agreement, name="agreement"),
    path("judges/", judges.judges_page, name="judges"),
    path("disparity/", disparity.disparity_board, name="disparity"),
    path("disparity/export.csv", disparity.disparity_export, name="disparity-export"),
    path("methodology/", methodology.methodology, name="methodology"),
    path("map/", maps.world_map, name="world-map"),
    path(
        "releases/<slug:version>/items/<str:uid>/results/",
        item_results.item_results,
        name="item-results",
    ),
]
