from django.urls import path

from leaderboard.evals.views import alignment, jobs

urlpatterns = [
    path("submit/", jobs.submit_model, name="submit"),
    path("queue/", jobs.queue, name="queue"),
    path("models/<int:pk>/align/", alignment.align_model, name="model-align"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status.json", jobs.job_status, name="job-status"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/rerun/", jobs.job_rerun, name="job-rerun"),
]
