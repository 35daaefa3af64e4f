from django.urls import path

from leaderboard.pipeline_runs import views

urlpatterns = [
    path("", views.run_list, name="pipeline-run-list"),
    path("runs/<int:pk>/", views.run_detail, name="pipeline-run-detail"),
    path("runs/<int:pk>/status.json", views.run_status, name="pipeline-run-status"),
]
