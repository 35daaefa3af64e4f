"""What the evals app tells the apps above it, without importing them."""

from django.dispatch import Signal

#: Sent once a job has finished and what it stored (scores, results, a model) is committed and
#: visible to every connection. Keyword argument: `job`, the finished EvaluationJob.
job_finished = Signal()
