import io
import math

import pytest
from django.core.management import call_command

# The boards app's later tables point at benchmarks, releases and models: a database rolled
# back to before those existed holds the boards app's first migration only.
BOARDS_FIRST = ("boards", "0001_initial")


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
    # Every app at its latest migration, but the benchmark app just before benchmarks existed
    # (and evals before generic scores, which come after).
    before = (
        [n for n in latest if n[0] not in ("benchmark", "evals", "boards")]
        + [BOARDS_FIRST]
        + [
            ("benchmark", "0003_triple_screening_text_extra_and_source_mode"),
            ("evals", "0005_alignment_job_proxy"),
        ]
    )
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
        assert list(migrated.items.values_list("uid", "data__question")) == [("u1", "Q?")]
        assert new.get_model("evals", "Score").objects.get(job__release=migrated).value == 0.5
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_scores_and_samples_from_before_generic_results_keep_everything():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    # Results before they became generic (and so items before they did, which come after).
    before = (
        [n for n in latest if n[0] not in ("benchmark", "evals", "boards")]
        + [BOARDS_FIRST]
        + [
            ("evals", "0005_alignment_job_proxy"),
            ("benchmark", "0004_benchmarks_own_releases"),
        ]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        Nation, Mode = old.get_model("benchmark", "Nation"), old.get_model("benchmark", "Mode")
        us, quoted = Nation.objects.get(code="us"), Mode.objects.get(code="quoted")
        fr, official = Nation.objects.get(code="fr"), Mode.objects.get(code="official")
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            version="old-2",
            title="Old",
            status="published",
            benchmark=old.get_model("benchmark", "Benchmark").objects.get(slug="navab"),
        )
        Triple = old.get_model("benchmark", "Triple")
        triples = [
            Triple.objects.create(
                release=release, nation=us, mode=quoted, uid=f"u{i}", question="Q?",
                statement="S.", reverse_statement="RS.",
            )
            for i in range(3)
        ]  # fmt: skip
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        Job = old.get_model("evals", "EvaluationJob")
        job = Job.objects.create(model=model, release=release, status="finished", methods=["mc"])
        pruned = Job.objects.create(model=model, release=release, status="finished", attempt=2)
        Score = old.get_model("evals", "Score")
        common = {"method": "mc", "stderr": 0.3, "ci_low": 0.1, "ci_high": 0.9}
        Score.objects.create(
            job=job, nation=us, mode=quoted, value=2 / 3, n=3, pos_rate=1.0, neg_rate=0.0, **common
        )
        Score.objects.create(
            job=pruned, nation=fr, mode=official, value=0.5, n=4, pos_rate=0.5, neg_rate=None,
            **common,
        )  # fmt: skip
        Sample = old.get_model("evals", "SampleResult")
        for triple, is_a, correct, answer in (
            (triples[0], True, True, ""),
            (triples[1], True, True, "An answer."),
            (triples[2], False, False, ""),
        ):
            Sample.objects.create(
                job=job, triple=triple, method="mc", statement_is_a=is_a, chosen="A",
                correct=correct, loglikelihoods={"A": -1.0, "B": -2.0}, answer=answer,
            )  # fmt: skip

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        score = new.get_model("evals", "Score").objects.get(job_id=job.pk)
        assert score.slices == {"nation": "us", "mode": "quoted"}
        assert (score.slice_key, score.method, score.metric) == (
            "mode=quoted|nation=us",
            "mc",
            "acc",
        )
        assert (score.value, score.n, score.stderr, score.ci_low, score.ci_high) == (
            2 / 3, 3, 0.3, 0.1, 0.9,
        )  # fmt: skip
        assert score.parts == {"pos": {"value": 1.0, "n": 2}, "neg": {"value": 0.0, "n": 1}}
        # A job without per-example results keeps its rates; their n is unknown.
        other = new.get_model("evals", "Score").objects.get(job_id=pruned.pk)
        assert other.slices == {"nation": "fr", "mode": "official"}
        assert other.parts == {"pos": {"value": 0.5, "n": None}, "neg": {"value": None, "n": None}}
        # Their parts and details are in the job's file now: read as the site reads them.
        from leaderboard.evals import sample_details
        from leaderboard.evals.models import SampleResult

        samples = list(SampleResult.objects.filter(job_id=job.pk).select_related("item"))
        sample_details.attach(samples)
        by_uid = {s.item.uid: s for s in samples}
        assert {uid: (s.value, s.correct, s.chosen, s.parts) for uid, s in by_uid.items()} == {
            "u0": (1.0, True, "A", {"half": "pos"}),
            "u1": (1.0, True, "A", {"half": "pos"}),
            "u2": (0.0, False, "A", {"half": "neg"}),
        }
        assert by_uid["u0"].details == {"loglikelihoods": {"A": -1.0, "B": -2.0}}
        assert by_uid["u1"].details == {
            "loglikelihoods": {"A": -1.0, "B": -2.0},
            "answer": "An answer.",
        }
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_triples_become_items_with_slices_and_data_and_keep_their_results():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("benchmark", "evals", "boards")]
        + [BOARDS_FIRST]
        + [
            ("evals", "0006_generic_scores_and_samples"),
            ("benchmark", "0004_benchmarks_own_releases"),
        ]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=old.get_model("benchmark", "Benchmark").objects.get(slug="navab"),
            version="old-1",
            title="Old release",
            status="published",
            manifest={"counts": {"fr/official": 1}},
        )
        content = {
            "question": "Faut-il taxer le kérosène ?",
            "statement": "Le kérosène doit être taxé.",
            "reverse_statement": "Le kérosène ne doit pas être taxé.",
            "speaker": "Marianne Dupont",
            "topic": "energy",
            "language": "fr",
            "news_excerpt": "Le gouvernement envisage une taxe.",
            "full_source": "Le Monde",
            "raw_generation": "Q: ... ## S: ... ## RS: ...",
            "filter_flag": False,
            "filter_flag_text": "## no",
        }
        triple = old.get_model("benchmark", "Triple").objects.create(
            release=release,
            nation=old.get_model("benchmark", "Nation").objects.get(code="fr"),
            mode=old.get_model("benchmark", "Mode").objects.get(code="official"),
            uid="u1",
            extra={"stance": "pro"},
            source_file="french/officia_statement_result.json",
            source_index=3,
            **content,
        )
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["mc"]
        )
        old.get_model("evals", "SampleResult").objects.create(
            job=job,
            triple=triple,
            method="mc",
            value=1.0,
            correct=True,
            chosen="A",
            parts={"half": "pos"},
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        item = new.get_model("benchmark", "Item").objects.get(uid="u1")
        assert item.pk == triple.pk
        assert item.slices == {"nation": "fr", "mode": "official"}
        assert item.data == content
        assert (item.extra, item.source_file, item.source_index) == (
            {"stance": "pro"},
            "french/officia_statement_result.json",
            3,
        )
        slices = new.get_model("benchmark", "ItemSlice").objects.filter(item=item)
        assert set(slices.values_list("dimension", "value")) == {
            ("nation", "fr"),
            ("mode", "official"),
        }
        sample = new.get_model("evals", "SampleResult").objects.get(job_id=job.pk)
        assert sample.item_id == item.pk

        # The site reads the migrated rows: filtering by slice, full-text search, the card.
        from evaluation.benchmarks import get_benchmark
        from leaderboard.catalog.counts import count_table
        from leaderboard.catalog.models import DatasetRelease, Item
        from leaderboard.catalog.search import search_items

        assert Item.objects.in_slice("nation", "fr").in_slice("mode", "official").get().uid == "u1"
        assert not Item.objects.in_slice("nation", "us").exists()
        hits = search_items(Item.objects.all(), "kérosène", [get_benchmark("navab")])
        assert [i.uid for i in hits] == ["u1"]
        table = count_table(DatasetRelease.objects.get(version="old-1"))
        assert [(r.value.key, [c.n for c in r.cells]) for r in table.rows] == [("fr", [1])]
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_scores_from_before_cluster_counts_get_their_users_counted_and_keep_everything():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("evals", "boards")]
        + [BOARDS_FIRST]
        + [("evals", "0009_job_disparity")]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="divervalue", defaults={"name": "DiverValue-Bench"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="dvb-old", title="Old", status="published"
        )
        Item = old.get_model("benchmark", "Item")
        users = [("jp0", "Japan")] * 3 + [("uk0", "United Kingdom"), ("uk1", "United Kingdom")]
        items = [
            Item.objects.create(
                release=release,
                uid=f"i{i}",
                slices={"birth_country": country},
                data={"user_id": user, "split": "test"},
            )
            for i, (user, country) in enumerate(users)
        ]
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["opa"]
        )
        for item in items:
            old.get_model("evals", "SampleResult").objects.create(
                job=job, triple=item, method="opa", value=0.5
            )
        Score = old.get_model("evals", "Score")
        for slices in ({}, {"birth_country": "Japan"}, {"birth_country": "United Kingdom"}):
            Score.objects.create(
                job=job, slices=slices, slice_key=str(slices), method="opa", metric="opa",
                value=0.25, n=3, stderr=0.1, ci_low=0.1, ci_high=0.4, parts={},
            )  # fmt: skip

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        migrated = new.get_model("evals", "Score").objects.filter(job_id=job.pk)
        counted = {str(s.slices): s.clusters for s in migrated}
        assert counted == {
            "{}": 3,
            str({"birth_country": "Japan"}): 1,
            str({"birth_country": "United Kingdom"}): 2,
        }
        assert {(s.value, s.n, s.ci_low, s.ci_high) for s in migrated} == {(0.25, 3, 0.1, 0.4)}
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_models_keep_everything_when_served_names_become_unique_per_provider():
    from django.db import IntegrityError, connection, transaction
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("evals", "boards")]
        + [BOARDS_FIRST]
        + [("evals", "0010_score_clusters")]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        acme = old.get_model("evals", "Provider").objects.create(
            name="acme", base_url="https://acme.example/v1/chat/completions"
        )
        Model = old.get_model("evals", "LanguageModel")
        Model.objects.create(name="chat-1", provider=acme)
        Model.objects.create(name="org/m", revision="a" * 40)
        kept = sorted(Model.objects.values_list("name", "revision", "provider__name"))

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        Model = new.get_model("evals", "LanguageModel")
        assert sorted(Model.objects.values_list("name", "revision", "provider__name")) == kept
        other = new.get_model("evals", "Provider").objects.create(
            name="other", base_url="https://other.example/v1/chat/completions"
        )
        Model.objects.create(name="chat-1", provider=other)  # another provider's model
        for duplicate in (
            {"name": "chat-1", "provider_id": other.pk},
            {"name": "org/m", "revision": "a" * 40},
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                Model.objects.create(**duplicate)
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_releases_from_before_stored_facets_get_theirs_from_their_items():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("benchmark", "boards")]
        + [BOARDS_FIRST]
        + [("benchmark", "0005_items_generic_over_slices")]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            version="old-3",
            title="Old",
            benchmark=old.get_model("benchmark", "Benchmark").objects.get(slug="navab"),
        )
        Item = old.get_model("benchmark", "Item")
        for i, (topic, language) in enumerate((("trade", "en"), ("trade", "zh"), ("", "en"))):
            Item.objects.create(
                release=release,
                uid=f"u{i}",
                slices={"nation": "us", "mode": "quoted"},
                data={"question": "Q?", "topic": topic, "language": language},
            )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        migrated = new.get_model("benchmark", "DatasetRelease").objects.get(version="old-3")
        assert migrated.facets["topic"] == [["trade", 2]]
        assert migrated.facets["language"] == [["en", 2], ["zh", 1]]
        assert migrated.items.count() == 3
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_cards_stored_with_server_paths_name_local_models_by_folder_and_fingerprint(tmp_path):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from evaluation.model_check import local_fingerprint

    model_dir = tmp_path / "srv" / "var" / "models" / "tiny-local"
    model_dir.mkdir(parents=True)
    (model_dir / "config.json").write_text('{"model_type": "gpt2"}')
    judge_dir = tmp_path / "srv" / "var" / "models" / "tiny-judge"  # gone since
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("evals", "boards")]
        + [BOARDS_FIRST]
        + [("evals", "0011_model_unique_per_provider")]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="navab", defaults={"name": "NaVAB"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="old-paths", title="Old", status="published"
        )
        model = old.get_model("evals", "LanguageModel").objects.create(name=str(model_dir))
        card = {
            "model": {"pretrained": str(model_dir), "revision": None},
            "reference_judge": {"pretrained": str(judge_dir)},
            "command": f"python -m evaluation run --model {model_dir} --reference-judge {judge_dir}",
            "device": "cpu",
        }
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["mc"], repro_card=card
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        migrated = new.get_model("evals", "EvaluationJob").objects.get(pk=job.pk).repro_card
        assert str(tmp_path) not in str(migrated)
        assert migrated["model"] == {
            "pretrained": "./tiny-local",
            "revision": local_fingerprint(model_dir),
        }
        assert migrated["reference_judge"]["pretrained"] == "./tiny-judge"
        assert migrated["command"] == (
            "python -m evaluation run --model ./tiny-local --reference-judge ./tiny-judge"
        )
        assert migrated["device"] == "cpu"
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_nation_and_mode_tables_go_and_the_api_answers_what_they_held(client):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = (
        [n for n in latest if n[0] not in ("benchmark", "boards")]
        + [BOARDS_FIRST]
        + [("benchmark", "0005_items_generic_over_slices")]
    )
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        nations = old.get_model("benchmark", "Nation").objects.order_by("sort_order", "code")
        modes = old.get_model("benchmark", "Mode").objects.order_by("sort_order", "code")
        held = {
            "/api/nations/": [
                {"code": n.code, "name": n.name, "languages": n.languages} for n in nations
            ],
            "/api/modes/": [
                {"code": m.code, "name": m.name, "description": m.description} for m in modes
            ],
        }
        assert [n["code"] for n in held["/api/nations/"]] == ["cn", "us", "uk", "fr", "de"]
        assert [m["code"] for m in held["/api/modes/"]] == ["quoted", "official", "source"]

        MigrationExecutor(connection).migrate(latest)
        tables = connection.introspection.table_names()
        assert "benchmark_nation" not in tables and "benchmark_mode" not in tables
        for url, rows in held.items():
            assert client.get(url).json()["results"] == rows
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_per_item_results_keep_their_rows_when_triple_becomes_item():
    from django.db import IntegrityError, connection, transaction
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [n for n in latest if n[0] != "evals"] + [("evals", "0013_cards_without_server_paths")]
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="navab", defaults={"name": "NaVAB"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="r-rename", title="Old", status="published"
        )
        item = old.get_model("benchmark", "Item").objects.create(
            release=release, uid="u0", slices={"nation": "us", "mode": "quoted"}
        )
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["mc"]
        )
        old.get_model("evals", "SampleResult").objects.create(
            job=job, triple=item, method="mc", value=1.0, correct=True, chosen="A"
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        new = executor.loader.project_state(latest).apps
        Sample = new.get_model("evals", "SampleResult")
        sample = Sample.objects.select_related("item").get(job_id=job.pk)
        assert (sample.item.uid, sample.method, sample.value, sample.chosen) == (
            "u0",
            "mc",
            1.0,
            "A",
        )
        # The uniqueness of one result per job, item and method is kept through the rename.
        with pytest.raises(IntegrityError), transaction.atomic():
            Sample.objects.create(job_id=job.pk, item_id=item.pk, method="mc", value=0.0)
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_per_example_results_keep_every_shown_field_when_their_long_part_moves_to_job_files(
    settings, tmp_path
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.MEDIA_ROOT = tmp_path / "media"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [n for n in latest if n[0] != "evals"] + [
        ("evals", "0015_language_model_generation_settings")
    ]
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="navab", defaults={"name": "NaVAB"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="old-samples", title="Old", status="published"
        )
        Item = old.get_model("benchmark", "Item")
        items = [
            Item.objects.create(
                release=release, uid=f"u{i}", slices={"nation": "us", "mode": "quoted"}
            )
            for i in range(3)
        ]
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        Job = old.get_model("evals", "EvaluationJob")
        jobs = [
            Job.objects.create(
                model=model, release=release, status="finished", methods=["mc"], attempt=a
            )
            for a in (1, 2)
        ]
        Sample = old.get_model("evals", "SampleResult")
        for j, job in enumerate(jobs):
            for i, item in enumerate(items):
                for method in ("mc", "aj"):
                    Sample.objects.create(
                        job=job,
                        item=item,
                        method=method,
                        value=0.1 * i + j + 1 / 3,
                        correct=None if method == "aj" and i == 0 else i % 2 == 0,
                        chosen="" if i == 2 else "AB"[i],
                        parts={"half": "pos" if i % 2 else "neg"} if method == "mc" else {},
                        details={
                            "loglikelihoods": {"A": -1.5 - i, "B": -0.25 * j},
                            "answer": f"Réponse {i} « {method} » of job {j}",
                            "judges": [{"name": "ref", "verdict": "agree", "raw": "Yes."}],
                        },
                    )
        shown = ("id", "job_id", "item_id", "method", "value", "correct", "chosen")
        before_rows = sorted(
            (*(getattr(s, f) for f in shown), s.parts, s.details) for s in Sample.objects.all()
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)

        from leaderboard.evals import sample_details
        from leaderboard.evals.models import SampleResult

        migrated = list(SampleResult.objects.all())
        sample_details.attach(migrated)
        # The id went later (0018: results are keyed by job, item and method).
        after_rows = sorted(
            (*(getattr(s, f) for f in shown[1:]), s.parts, s.details) for s in migrated
        )
        assert after_rows == sorted(r[1:] for r in before_rows)
        assert len(after_rows) == 12
        # The long part is in one file per job, not in the rows.
        files = sorted(p.name for p in (tmp_path / "media" / "sample-details").iterdir())
        assert files == sorted(f"job-{job.pk}.jsonz" for job in jobs)  # by name: job-10 < job-9
        columns = {c.name for c in SampleResult._meta.get_fields()}
        assert not {"parts", "details"} & columns
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_per_example_results_keep_every_value_when_keyed_by_job_item_and_method(settings, tmp_path):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.MEDIA_ROOT = tmp_path / "media"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [n for n in latest if n[0] != "evals"] + [
        ("evals", "0017_language_model_publisher_run")
    ]
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="navab", defaults={"name": "NaVAB"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="id-samples", title="Old", status="published"
        )
        Item = old.get_model("benchmark", "Item")
        items = [
            Item.objects.create(
                release=release, uid=f"u{i}", slices={"nation": "us", "mode": "quoted"}
            )
            for i in range(3)
        ]
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        Job = old.get_model("evals", "EvaluationJob")
        jobs = [
            Job.objects.create(
                model=model, release=release, status="finished", methods=["mc"], attempt=a
            )
            for a in (1, 2)
        ]
        from leaderboard.evals import sample_details

        Sample = old.get_model("evals", "SampleResult")
        written = []
        # Stored out of the key's order (methods as a run lists them, the later job first).
        for j, job in reversed(list(enumerate(jobs))):
            long = []
            for i, item in reversed(list(enumerate(items))):
                for method in ("mc", "aj", "aj_ref"):
                    row = Sample.objects.create(
                        job=job,
                        item=item,
                        method=method,
                        value=0.1 * i + j + 1 / 3,
                        correct=None if method == "aj_ref" and i == 0 else i % 2 == 0,
                        chosen="" if i == 2 else "AB"[i],
                    )
                    long.append((item.pk, method, {"half": "pos"}, {"answer": f"{i}{method}"}))
                    written.append(row)
            sample_details.write_job(job.pk, long)
        shown = ("job_id", "item_id", "method", "value", "correct", "chosen")
        before_rows = sorted(tuple(getattr(s, f) for f in shown) for s in written)

        MigrationExecutor(connection).migrate(latest)

        from leaderboard.evals.models import SampleResult

        migrated = list(SampleResult.objects.all())
        assert [tuple(getattr(s, f) for f in shown) for s in migrated] == before_rows
        sample_details.attach(migrated)
        index = {item.pk: i for i, item in enumerate(items)}
        assert all(s.details == {"answer": f"{index[s.item_id]}{s.method}"} for s in migrated)
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "evals_sampleresult")
        keys = [c["columns"] for c in constraints.values() if c["primary_key"]]
        assert keys == [["job_id", "item_id", "method"]]
        # A second result for the same job, item and method is refused by the key.
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            SampleResult.objects.create(
                job_id=jobs[0].pk, item_id=items[0].pk, method="mc", value=0.0
            )

        # And back: every value again, in rows with ids.
        MigrationExecutor(connection).migrate(before)
        back = MigrationExecutor(connection).loader.project_state(before).apps
        rows = back.get_model("evals", "SampleResult").objects.all()
        assert sorted(tuple(getattr(s, f) for f in shown) for s in rows) == before_rows
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_jobs_stored_before_packed_values_get_theirs_from_their_rows_and_files(settings, tmp_path):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from leaderboard.evals import sample_details

    settings.MEDIA_ROOT = tmp_path / "media"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [n for n in latest if n[0] != "evals"] + [
        ("evals", "0018_sample_results_keyed_by_job_item_method")
    ]
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        benchmark, _ = old.get_model("benchmark", "Benchmark").objects.get_or_create(
            slug="divervalue", defaults={"name": "DiverValue-Bench"}
        )
        release = old.get_model("benchmark", "DatasetRelease").objects.create(
            benchmark=benchmark, version="old-values", title="Old", status="published"
        )
        Item = old.get_model("benchmark", "Item")
        items = [
            Item.objects.create(release=release, uid=f"u{i}", slices={"region": "Europe"})
            for i in range(3)
        ]
        model = old.get_model("evals", "LanguageModel").objects.create(name="org/m", revision="a")
        job = old.get_model("evals", "EvaluationJob").objects.create(
            model=model, release=release, status="finished", methods=["opa"], attempt=1
        )
        Sample = old.get_model("evals", "SampleResult")
        # Created out of item order: packed in the rows' stored order, by item.
        for item, value in ((items[2], 2.5), (items[0], -1.0), (items[1], 0.5)):
            Sample.objects.create(job=job, item=item, method="opa", value=value, correct=None)
        outcomes = {items[2].pk: {"opa": 1.0}, items[0].pk: {"opa": 0.0}, items[1].pk: "none"}
        sample_details.write_job(
            job.pk, ((i, "opa", {}, {"outcome": o}) for i, o in outcomes.items())
        )

        executor = MigrationExecutor(connection)
        executor.migrate(latest)

        from leaderboard.evals.item_values import unpack
        from leaderboard.evals.models import JobItemValues

        rows = {
            row.metric: (bytes(row.items), bytes(row.values))
            for row in JobItemValues.objects.filter(job_id=job.pk, method="opa")
        }
        packed = {
            metric: [list(a) for a in unpack(rows[""], None if metric == "" else row)]
            for metric, row in rows.items()
        }
        order = [items[0].pk, items[1].pk, items[2].pk]
        assert packed[""] == [order, [-1.0, 0.5, 2.5]]
        assert packed["opa"][0] == order
        assert packed["opa"][1][0] == 0.0 and packed["opa"][1][2] == 1.0
        assert math.isnan(packed["opa"][1][1])  # an outcome that is no number holds none
        assert set(packed) == {"", "opa"}
    finally:
        MigrationExecutor(connection).migrate(latest)
