"""The search box's websearch syntax (`climate -nuclear`, `"trade policy"`, `a or b`) finds the
same items on PostgreSQL (websearch_to_tsquery) and on the embedded default, SQLite (the syntax
parsed once and applied as ORM filters), run in a subprocess on a fresh SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.search import Term, parse_websearch, search_items

ROOT = Path(__file__).resolve().parents[2]

QUESTIONS = {
    "levy": "Should the climate levy fund nuclear plants?",
    "adaptation": "Is climate adaptation a priority?",
    "phrase": "Does trade policy protect workers?",
    "apart": "Should policy on trade be set by parliament?",
    "tariffs": "Are reciprocal tariffs fair?",
}

# What each advertised query finds, by the key of its question.
EXPECTED = {
    "climate -nuclear": ["adaptation"],
    '"trade policy"': ["phrase"],
    "trade policy": ["apart", "phrase"],
    "climate or tariffs": ["adaptation", "levy", "tariffs"],
    'policy -"trade policy"': ["apart"],
    "-climate": ["apart", "phrase", "tariffs"],
}


def found_per_query() -> dict[str, list[str]]:
    """Create the items on the current database and run every query through `search_items`."""
    from tests.factories import add_triples, make_release

    release = make_release("search", signal=False)
    by_question = {}
    for key, question in QUESTIONS.items():
        (item,) = add_triples(release, question=question, statement="Yes.", reverse_statement="No.")
        by_question[item.uid] = key
    from leaderboard.catalog.models import Item

    navab = [get_benchmark("navab")]
    return {
        query: sorted(by_question[i.uid] for i in search_items(Item.objects.all(), query, navab))
        for query in EXPECTED
    }


def index_kept_in_step() -> dict[str, object]:
    """On SQLite: whether a search reads the full-text index, what it finds of an item stored
    before the index was created (by migration), and after the item's text is edited in place
    and after it is deleted (the index is kept by triggers)."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leaderboard.catalog.models import Item
    from tests.factories import add_triples, make_release

    navab = [get_benchmark("navab")]

    release = make_release("kept", signal=False)

    def found(query: str) -> list[str]:
        items = Item.objects.filter(release=release)
        return sorted(i.uid for i in search_items(items, query, navab))

    (item,) = add_triples(release, question="Is the levy fair?")
    # The migration indexes the items already stored.
    call_command("migrate", "benchmark", "0007", verbosity=0)
    call_command("migrate", verbosity=0)
    with CaptureQueriesContext(connection) as queries:
        before = found("levy")
    data = {**item.data, "question": "Is the carbon tax fair?"}
    Item.objects.filter(pk=item.pk).update(data=data)
    edited = {"levy": found("levy"), "carbon": found("carbon")}
    Item.objects.filter(pk=item.pk).delete()
    return {
        "reads_index": any("MATCH" in q["sql"] for q in queries.captured_queries),
        "before": before == [item.uid],
        "edited": edited == {"levy": [], "carbon": [item.uid]},
        "deleted": found("carbon") == [],
    }


def main() -> None:
    """Run on a fresh database named by DATABASE_URL (the subprocess of the SQLite test)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    found = found_per_query()
    print(json.dumps({"vendor": connection.vendor, "found": found, "index": index_kept_in_step()}))


def test_it_parses_the_websearch_syntax():
    assert parse_websearch('climate -nuclear "trade policy" or U.S.') == [
        [Term(("climate",)), Term(("nuclear",), negated=True), Term(("trade", "policy"))],
        [Term(("u", "s"))],
    ]
    assert parse_websearch('-"open phrase') == [[Term(("open", "phrase"), negated=True)]]
    assert parse_websearch(' - "" or ') == []


@pytest.mark.django_db
def test_it_finds_the_advertised_syntax_on_postgresql():
    assert found_per_query() == EXPECTED


@pytest.mark.slow  # a process of its own on a SQLite database
def test_it_finds_the_same_on_sqlite(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'search.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from tests.catalog.test_search import main; main()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["vendor"] == "sqlite"
    assert output["found"] == EXPECTED
    # The index narrows the search (a pattern over every item took seconds on a full release)
    # and follows edits and deletions.
    assert output["index"] == dict.fromkeys(["reads_index", "before", "edited", "deleted"], True)
