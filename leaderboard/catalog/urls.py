from django.urls import path

from leaderboard.catalog.views import downloads, pages

urlpatterns = [
    path("", pages.home, name="home"),
]

# Below `/<benchmark>/` (see leaderboard/urls.py).
benchmark_urlpatterns = [
    path("items/", pages.browse, name="browse"),
    path("items/download.<str:fmt>", downloads.download_filtered, name="download-filtered"),
    path("releases/", pages.release_list, name="release-list"),
    path("releases/<slug:version>/", pages.release_detail, name="release-detail"),
    path(
        "releases/<slug:version>/files/items.<str:fmt>",
        downloads.download_release,
        name="download-release",
    ),
    path("releases/<slug:version>/items/<str:uid>/", pages.item_detail, name="item-detail"),
]
