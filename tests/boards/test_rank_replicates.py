"""Stored rank replicates: a board's rank ranges are the same whether each job's replicate
scores were drawn for this view, stored by an earlier one, or drawn when the job was
published, and a cold board with them stored reads no per-item values."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.models import RankCell, RankRanges, RankReplicates
from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.evals.models import EvaluationJob
from leaderboard.evals.signals import job_finished
from tests.factories import DVB_COUNTRIES, dvb_evaluate, dvb_release, evaluate, make_model
from tests.factories import make_release as navab_release

COUNTRIES = [country for country, *_ in DVB_COUNTRIES] + ["Fiji"]


def cold(query: BoardQuery) -> tuple[dict[str, tuple[int | None, int | None]], list[str]]:
    """The board's rank ranges built cold, and the SQL it ran."""
    invalidate_boards()
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        board = build_board(query)
    assert board.rank_spread_note == ""
    ranges = {row.name: (row.rank_best, row.rank_worst) for row in board.ranked}
    return ranges, [q["sql"] for q in captured.captured_queries]


def drawn_afresh(query: BoardQuery) -> dict[str, tuple[int | None, int | None]]:
    RankReplicates.objects.all().delete()
    RankRanges.objects.all().delete()
    return cold(query)[0]


def reads_item_values(sql: list[str]) -> bool:
    """Whether the per-item values or a cell's items were read (the board's own count of the
    release's items per slice is not that)."""
    return any(
        "evals_jobitemvalues" in q or q.startswith('SELECT "benchmark_item"."id"') for q in sql
    )


@pytest.fixture
def navab(db):
    return navab_release(per_cell=30, signal=False)


def test_a_cold_board_reads_the_stored_replicates_not_the_per_item_values(navab):
    for name, skill in (("org/x", 0.75), ("org/y", 0.62), ("org/z", 0.58)):
        evaluate(make_model(name), navab, skill=skill)
    query = BoardQuery(release=navab)  # the mean over five nations
    first, sql = cold(query)
    assert reads_item_values(sql)
    # One row a job and nation column, each with a draw of every replicate.
    assert RankReplicates.objects.count() == 3 * 5
    again, sql = cold(query)
    assert again == first and not reads_item_values(sql)


def test_a_single_nation_board_shares_the_overall_boards_column(navab):
    for name, skill in (("org/x", 0.75), ("org/y", 0.62)):
        evaluate(make_model(name), navab, skill=skill)
    cold(BoardQuery(release=navab))
    _, sql = cold(BoardQuery(release=navab, column="us"))
    assert not reads_item_values(sql) and RankCell.objects.count() == 5


def test_a_job_published_later_gets_its_replicates_at_publish(navab):
    for name, skill in (("org/x", 0.75), ("org/y", 0.62)):
        evaluate(make_model(name), navab, skill=skill)
    query = BoardQuery(release=navab)
    cold(query)  # the board's cells are registered as drawn
    late = evaluate(make_model("org/late"), navab, skill=0.6)
    job_finished.send(sender=EvaluationJob, job=late)
    assert RankReplicates.objects.filter(job=late).count() == 5
    published, sql = cold(query)
    assert not reads_item_values(sql)
    assert published == drawn_afresh(query)


def test_a_model_holding_units_no_one_held_redraws_everyone_over_them(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    query = BoardQuery(release=release, method="opa")
    margins = dict.fromkeys(COUNTRIES, 0.2)
    partial = dvb_evaluate(make_model("org/partial"), release, margins, skip=["Japan"])
    dvb_evaluate(make_model("org/also-partial"), release, margins | {"Brazil": 0.1}, skip=["Japan"])
    cold(query)
    before = RankReplicates.objects.get(job=partial)
    dvb_evaluate(make_model("org/full"), release, dict.fromkeys(COUNTRIES, 0.15))
    ranges, _ = cold(query)
    after = RankReplicates.objects.get(job=partial)
    assert after.units != before.units and after.n == before.n  # redrawn, on the same items
    assert ranges == drawn_afresh(query)


def test_replicates_are_not_redrawn_when_a_model_holding_the_same_units_joins(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    query = BoardQuery(release=release, method="opa")
    first = dvb_evaluate(make_model("org/a"), release, dict.fromkeys(COUNTRIES, 0.3))
    dvb_evaluate(make_model("org/b"), release, dict.fromkeys(COUNTRIES, 0.2))
    cold(query)
    kept = bytes(RankReplicates.objects.get(job=first).replicates)
    dvb_evaluate(make_model("org/c"), release, dict.fromkeys(COUNTRIES, 0.25))
    ranges, _ = cold(query)
    assert bytes(RankReplicates.objects.get(job=first).replicates) == kept
    assert ranges == drawn_afresh(query)


def reads_replicates(sql: list[str]) -> bool:
    return any('"boards_rankreplicates"."replicates"' in q for q in sql)


def reads_figures(sql: list[str]) -> bool:
    return any('FROM "boards_rankreplicates"' in q for q in sql)


def test_a_board_rebuilt_with_the_same_ranked_scores_reads_its_ranges_alone(navab):
    for name, skill in (("org/x", 0.75), ("org/y", 0.62), ("org/z", 0.58)):
        evaluate(make_model(name), navab, skill=skill)
    query = BoardQuery(release=navab)
    first, sql = cold(query)
    assert RankRanges.objects.count() == 1
    # Any change on the site makes every cached board stale; the ranked jobs are the same.
    again, sql = cold(query)
    assert again == first and not reads_figures(sql) and not reads_item_values(sql)
    evaluate(make_model("org/w"), navab, skill=0.7)
    ranked_again, sql = cold(query)
    assert reads_replicates(sql) and set(ranked_again) == set(first) | {"org/w"}
    assert ranked_again == drawn_afresh(query)


def test_replicates_drawn_again_forget_the_ranges_kept_of_the_old_ones(navab):
    jobs = [evaluate(make_model(name), navab, skill=skill)
            for name, skill in (("org/x", 0.75), ("org/y", 0.62))]  # fmt: skip
    query = BoardQuery(release=navab)
    first, _ = cold(query)
    # The job's results stored again (the same scores): its replicates are drawn again, and
    # no board reads ranges ranked on the old ones.
    job_finished.send(sender=EvaluationJob, job=jobs[0])
    assert not RankRanges.objects.exists()
    again, sql = cold(query)
    assert reads_replicates(sql) and again == first
    assert RankRanges.objects.count() == 1


def test_a_board_that_cannot_store_its_draws_still_shows_them(client, navab):
    for name, skill in (("org/x", 0.75), ("org/y", 0.62), ("org/z", 0.58)):
        evaluate(make_model(name), navab, skill=skill)
    with connection.cursor() as cursor:  # the database refuses every new draw (a full disk, say)
        cursor.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; "
            "END $$ LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON "
            "boards_rankreplicates FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    refused, _ = cold(BoardQuery(release=navab))
    assert not RankReplicates.objects.exists()
    page = client.get(reverse("board", args=["navab"]))
    shown = '<td class="num col-ranks"><span title="Best and worst rank'
    assert page.status_code == 200 and page.content.decode().count(shown) == 3
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse ON boards_rankreplicates; DROP FUNCTION refuse()")
    assert refused == drawn_afresh(BoardQuery(release=navab))
