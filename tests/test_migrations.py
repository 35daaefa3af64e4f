import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_have_no_pending_migrations():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # --check exits with status 1 when a model change has no migration
        pytest.fail(f"Model changes without a migration:\n{out.getvalue()}")


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_benchmarks_keeps_everything_and_its_releases_become_navab():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    # Every app at its latest migration, but the benchmark app just before benchmarks existed.
    before = [n for n in latest if n[0] != "benchmark"] + [
        ("benchmark", "0003_triple_screening_text_extra_and_source_mode")
    ]
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            version="old-1", title="Old release", status="published"
        )
        triple = old.get_model("benchmark", "Triple").objects.create(
            release=release,
            nation=old.get_model("benchmark", "Nation").objects.get(code="us"),
            mode=old.get_model("benchmark", "Mode").objects.get(code="quoted"),
            uid="u1",
            question="Q?",
            statement="S.",
            reverse_statement="RS.",
        )
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["mc"]
        )
        old.get_model("evals", "Score").objects.create(
            job=job,
            nation_id=triple.nation_id,
            mode_id=triple.mode_id,
            method="mc",
            value=0.5,
            n=1,
            stderr=0.0,
            ci_low=0.0,
            ci_high=1.0,
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        migrated = new.get_model("benchmark", "DatasetRelease").objects.get(version="old-1")
        assert migrated.benchmark.slug == "navab"
        assert migrated.benchmark.name == "NaVAB"
        assert list(migrated.triples.values_list("uid", "question")) == [("u1", "Q?")]
        assert new.get_model("evals", "Score").objects.get(job__release=migrated).value == 0.5
    finally:
        MigrationExecutor(connection).migrate(latest)
