from django.apps import AppConfig


class PipelineRunsConfig(AppConfig):
    """The site's tracking of pipeline runs (the pipeline itself is the plain-Python `pipeline`)."""

    name = "leaderboard.pipeline_runs"
    # The package was `leaderboard.pipelines`; the label stays so that migrations, table
    # names, content types and permissions do not change.
    label = "pipelines"
    verbose_name = "Dataset pipeline runs"
