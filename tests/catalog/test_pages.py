"""The public dataset pages: home, triple browser, triple detail, release list and cards."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.shortcuts import render
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard import context_processors
from leaderboard.catalog.models import DatasetRelease
from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db

HOME = reverse("home")
BROWSE = reverse("browse", args=["navab"])


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _questions(client, **params) -> set[str]:
    response = client.get(BROWSE, params)
    assert response.status_code == 200
    return {t.data["question"] for t in response.context["page"].object_list}


# --- Home -----------------------------------------------------------------------------------


def test_home_counts_triples_per_nation_and_mode(client):
    release = make_release("r1")
    add_triples(release, "cn", "quoted", 3)
    add_triples(release, "us", "official", 2)

    response = client.get(HOME)

    counts = response.context["counts"]
    cells = {(row.value.key, cell.column.key): cell.n for row in counts.rows for cell in row.cells}
    assert cells[("cn", "quoted")] == 3
    assert cells[("us", "official")] == 2
    # An empty cell of a nation and mode the release holds shows as 0.
    assert cells[("cn", "official")] == 0
    assert [(cell.column.key, cell.n) for cell in counts.column_totals] == [
        ("quoted", 3),
        ("official", 2),
    ]
    assert {row.value.key: row.total for row in counts.rows}["cn"] == 3
    assert [row.value.label for row in counts.rows] == ["China", "United States"]
    assert counts.total == 5
    html = _html(response)
    assert f'href="{BROWSE}?release=r1&amp;nation=cn&amp;mode=quoted"' in html
    assert f'href="{reverse("board", args=["navab"])}"' in html
    assert f'href="{reverse("submit")}"' in html


def test_home_shows_the_newest_published_release_not_drafts(client):
    add_triples(make_release("r1"), count=1)
    newest = make_release("r2")
    add_triples(newest, count=2)
    add_triples(make_release("r3", published=False), count=5)

    response = client.get(HOME)

    (navab, *_) = response.context["sections"]
    assert navab.release == newest
    assert navab.counts.total == 2


def test_home_says_so_when_nothing_is_published(client):
    make_release("r1", published=False)

    html = _html(client.get(HOME))

    assert "No NaVAB release is published yet" in html
    assert 'id="counts"' not in html


# --- Layout ---------------------------------------------------------------------------------


def test_it_shows_a_demo_banner_when_the_current_release_is_demo_data(client):
    make_release("demo-1", is_demo=True, source=DatasetRelease.Source.DEMO)

    assert 'class="demo-banner"' in _html(client.get(reverse("release-list", args=["navab"])))


def test_pages_about_every_benchmark_name_each_demo_release_and_cite_each_benchmark(client):
    make_release("demo-1", is_demo=True, source=DatasetRelease.Source.DEMO)
    make_release("dvb-demo-1", benchmark="divervalue", is_demo=True, signal=False)
    queue = _html(client.get(reverse("queue")))
    banner = queue[queue.index('class="demo-banner"') :][:900]
    assert "demo-1</a>, <a" in banner and "dvb-demo-1</a>) are hand-written" in banner
    assert "not the NaVAB or DiverValue-Bench releases" in banner
    assert queue.count("<cite>") == 3  # NaVAB, DiverValue-Bench and its out-of-domain UF-P-4
    # A page below /<benchmark>/ keeps to its own benchmark's release and citation.
    board = _html(client.get(reverse("release-list", args=["divervalue"])))
    assert (
        "dvb-demo-1</a>) is hand-written" in board and "not the DiverValue-Bench release:" in board
    )
    assert board.count("<cite>") == 1


def test_it_shows_no_demo_banner_for_real_data(client):
    make_release("r1")

    assert 'class="demo-banner"' not in _html(client.get(reverse("release-list", args=["navab"])))


def test_layout_offers_login_to_visitors_and_a_post_logout_to_users(client, owner):
    html = _html(client.get(reverse("release-list", args=["navab"])))
    assert f'href="{reverse("login")}?next=/navab/releases/"' in html
    assert f'href="{reverse("signup")}"' in html

    client.force_login(owner)
    html = _html(client.get(reverse("release-list", args=["navab"])))
    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert "csrfmiddlewaretoken" in html
    assert f'href="{reverse("profile")}"' in html


def test_layout_marks_the_current_section_in_the_navigation(client):
    html = _html(client.get(BROWSE))

    assert f'<a href="{BROWSE}" aria-current="page">Items</a>' in html
    assert f'<a href="{HOME}">Home</a>' in html


def test_navigation_skips_pages_whose_url_does_not_exist(monkeypatch):
    monkeypatch.setattr(
        context_processors,
        "NAVIGATION",
        (("Home", "home", False), ("Nowhere", "no-such-page", True)),
    )

    links = context_processors.navigation("/", "navab")

    assert [(link.label, link.active) for link in links] == [("Home", True)]


def test_layout_shows_messages(rf):
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    request._messages = FallbackStorage(request)
    messages.error(request, "The import failed: 3 records had no statement.")

    html = render(request, "catalog/release_list.html", {"releases": []}).content.decode()

    assert "The import failed: 3 records had no statement." in html
    assert 'class="message message-error" role="alert"' in html


# --- Browser --------------------------------------------------------------------------------


def test_browse_defaults_to_the_current_release(client):
    add_triples(make_release("r1"), question="An old question?")
    add_triples(make_release("r2"), question="A new question?")

    response = client.get(BROWSE)

    assert response.context["release"].version == "r2"
    assert {t.data["question"] for t in response.context["page"].object_list} == {"A new question?"}
    assert response.context["querystring"] == "release=r2"


def test_browse_filters_by_nation_mode_topic_and_language(client):
    release = make_release("r1")
    add_triples(release, "cn", "quoted", question="cn quoted?", topic="trade", language="zh")
    add_triples(release, "cn", "official", question="cn official?", topic="trade", language="en")
    add_triples(release, "fr", "quoted", question="fr quoted?", topic="climate", language="fr")

    assert _questions(client, nation="cn") == {"cn quoted?", "cn official?"}
    assert _questions(client, nation="cn", mode="official") == {"cn official?"}
    assert _questions(client, topic="climate") == {"fr quoted?"}
    assert _questions(client, language="zh") == {"cn quoted?"}
    response = client.get(BROWSE)
    options = {f["key"]: f["values"] for f in response.context["field_filters"]}
    assert options["topic"] == ["climate", "trade"]
    assert options["language"] == ["en", "fr", "zh"]
    assert '<option value="climate">climate</option>' in _html(response)


def test_browse_searches_full_text_with_stemming_phrases_and_exclusions(client):
    release = make_release("r1")
    add_triples(
        release,
        "us",
        question="Should tariffs on steel rise?",
        statement="Tariffs protect domestic industry.",
    )
    add_triples(
        release,
        "uk",
        question="Should the railways be nationalised?",
        statement="Public ownership serves industry and passengers.",
    )

    assert _questions(client, q="tariff") == {"Should tariffs on steel rise?"}
    assert _questions(client, q='"domestic industry"') == {"Should tariffs on steel rise?"}
    assert _questions(client, q="industry -steel") == {"Should the railways be nationalised?"}
    assert _questions(client, q="industry", nation="us") == {"Should tariffs on steel rise?"}
    assert _questions(client, q="submarine") == set()


def test_browse_paginates_by_25_and_keeps_the_query_in_links(client):
    release = make_release("r1")
    add_triples(release, "de", "official", 30)
    add_triples(release, "us", "quoted", 1)

    response = client.get(BROWSE, {"nation": "de"})

    page = response.context["page"]
    assert page.paginator.count == 30
    assert len(page.object_list) == 25
    html = _html(response)
    assert '<span class="count" id="result-count">30</span>' in html
    assert 'href="?nation=de&amp;release=r1&amp;page=2"' in html
    csv_url = reverse("download-filtered", args=["navab", "csv"])
    assert f'href="{csv_url}?nation=de&amp;release=r1"' in html
    for fmt in ("jsonl", "parquet"):
        assert reverse("download-filtered", args=["navab", fmt]) in html

    second = client.get(BROWSE, {"nation": "de", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert 'href="?nation=de&amp;release=r1&amp;page=1"' in _html(second)


def test_browse_refuses_drafts_to_anonymous_users(client):
    make_release("r1")
    add_triples(make_release("secret-draft", published=False), question="Only in the draft?")

    response = client.get(BROWSE, {"release": "secret-draft"})

    html = _html(response)
    assert "release" in response.context["filterset"].form.errors
    assert response.context["page"].paginator.count == 0
    assert "Only in the draft?" not in html
    assert '<option value="secret-draft"' not in html


def test_browse_shows_drafts_to_staff_marked_as_drafts(admin_client):
    make_release("r1")
    add_triples(make_release("next", published=False), question="Only in the draft?")

    html = _html(admin_client.get(BROWSE, {"release": "next"}))
    assert "Only in the draft?" in html
    assert ">next (draft)</option>" in html
    assert "only staff can see it" in html
    # Without a choice, staff browse the current published release like everyone else.
    assert admin_client.get(BROWSE).context["release"].version == "r1"


def test_browse_explains_unknown_filter_values(client):
    add_triples(make_release("r1"))

    response = client.get(BROWSE, {"nation": "atlantis"})

    assert "nation" in response.context["filterset"].form.errors
    assert "Some filters were not understood" in _html(response)


# --- Triple detail --------------------------------------------------------------------------


def test_item_detail_shows_the_whole_item(client):
    release = make_release("r1")
    [triple] = add_triples(
        release,
        "fr",
        "quoted",
        question="Faut-il taxer le kérosène ?",
        statement="Le kérosène doit être taxé.",
        reverse_statement="Le kérosène ne doit pas être taxé.",
        speaker="Marianne Dupont",
        full_source="Marianne Dupont, ministre, Le Monde",
        topic="energy",
        language="fr",
        news_excerpt="Le gouvernement envisage une taxe.",
        raw_generation="Q: Faut-il taxer le kérosène ? ## S: ... ## RS: ...",
    )

    html = _html(client.get(triple.get_absolute_url()))

    for text in (
        "Faut-il taxer le kérosène ?",
        "Le kérosène doit être taxé.",
        "Le kérosène ne doit pas être taxé.",
        "Marianne Dupont, ministre, Le Monde",
        "energy",
        "Le gouvernement envisage une taxe.",
        "## RS: ...",
        triple.uid,
    ):
        assert text in html
    assert f'href="{BROWSE}?release=r1&amp;nation=fr&amp;mode=quoted"' in html


def test_item_detail_is_404_for_an_unknown_uid_or_release(client):
    [triple] = add_triples(make_release("r1"))

    assert (
        client.get(reverse("item-detail", args=["navab", "r1", "no-such-uid"])).status_code == 404
    )
    assert client.get(reverse("item-detail", args=["navab", "r9", triple.uid])).status_code == 404


def test_draft_triples_are_for_staff_only(client, admin_client):
    [triple] = add_triples(make_release("draft-1", published=False))

    assert client.get(triple.get_absolute_url()).status_code == 404
    assert admin_client.get(triple.get_absolute_url()).status_code == 200


# --- Releases -------------------------------------------------------------------------------


def test_release_list_hides_drafts_from_anonymous_users(client, admin_client):
    add_triples(make_release("r1"), count=2)
    make_release("r2-draft", published=False)

    releases = client.get(reverse("release-list", args=["navab"])).context["releases"]
    assert [(r.version, r.n_items) for r in releases] == [("r1", 2)]
    staff_releases = admin_client.get(reverse("release-list", args=["navab"])).context["releases"]
    assert {r.version for r in staff_releases} == {"r1", "r2-draft"}


MANIFEST = {
    "files": {
        "us/human_statement_result.json": {"sha256": "a" * 64, "bytes": 2048, "records": 12},
    },
    "exports": {
        "jsonl": {"path": "exports/r1/triples.jsonl", "sha256": "b" * 64, "bytes": 3_500_000}
    },
    "counts": {"us/quoted": 2},
    "rejected": 3,
}


def test_release_card_shows_checksums_counts_downloads_and_citations(client):
    release = make_release(
        "r1",
        manifest=MANIFEST,
        description="First import of NaVAB.",
        citation="@misc{navab-r1, title = {NaVAB release r1}}",
    )
    add_triples(release, "us", "quoted", 2)

    response = client.get(release.get_absolute_url())

    html = _html(response)
    assert response.context["counts"].total == 2
    assert "us/human_statement_result.json" in html
    assert "a" * 64 in html
    assert "2.0\xa0KB" in html
    assert "b" * 64 in html
    assert "3.3\xa0MB" in html
    assert "not recorded yet" in html  # csv and parquet have no checksum in this manifest
    for fmt in ("jsonl", "csv", "parquet"):
        assert f'href="{reverse("download-release", args=["navab", "r1", fmt])}"' in html
    assert "3 source records rejected on import" in html
    assert "apache-2.0" in html
    assert "First import of NaVAB." in html
    assert "Benchmarking Multi-National Value Alignment for Large Language Models" in html
    assert "eprint        = {2504.12911}" in html
    assert "@misc{navab-r1, title = {NaVAB release r1}}" in html
    assert "Imported from the NaVAB release published by the paper's authors" in html


def test_release_card_reads_a_manifest_without_files_or_exports(client):
    release = make_release("r1", manifest={"exports": {"csv": "not a mapping"}})

    html = _html(client.get(release.get_absolute_url()))

    assert 'id="files"' not in html
    assert html.count("not recorded yet") == 3


def test_release_card_is_404_for_an_unknown_version(client):
    assert client.get(reverse("release-detail", args=["navab", "nope"])).status_code == 404


def test_draft_release_card_is_404_for_anonymous_users_and_visible_to_staff(client, admin_client):
    release = make_release("r2-draft", published=False)

    assert client.get(release.get_absolute_url()).status_code == 404
    assert "only staff can see it" in _html(admin_client.get(release.get_absolute_url()))


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["home", "browse", "release-list", "release-detail"])
def test_query_count_does_not_grow_with_the_number_of_triples(
    client, django_assert_max_num_queries, page
):
    release = make_release("r1", manifest=MANIFEST)
    add_triples(release, "us", "quoted", 3, topic="t0")
    args = {"home": [], "release-detail": ["navab", "r1"]}.get(page, ["navab"])
    url = reverse(page, args=args)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    # Ten times the triples, spread over more nations, modes, topics and languages.
    for i, (nation, mode) in enumerate([("cn", "quoted"), ("uk", "official"), ("de", "official")]):
        add_triples(release, nation, mode, 9, topic=f"t{i + 1}", language=f"l{i}")
    assert release.items.count() == 30

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_release_card_renders_its_count_table_again_when_the_content_changes(client):
    from django.core.cache import cache

    cache.clear()
    release = make_release("r1", manifest={"content_sha256": "a" * 64})
    add_triples(release, "us", "quoted", 2)
    url = reverse("release-detail", args=["navab", "r1"])
    assert 'aria-label="United States, Quoted statements: 2 items"' in _html(client.get(url))

    add_triples(release, "us", "quoted", 3, question="Another question?")
    # An import or an admin edit renews the checksum; the table follows it.
    release.manifest = {"content_sha256": "b" * 64}
    release.save(update_fields=["manifest"])

    html = _html(client.get(url))
    assert 'aria-label="United States, Quoted statements: 5 items"' in html
    cache.clear()
