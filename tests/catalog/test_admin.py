"""The benchmark admin: release publishing, the manifest view and triple editing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.catalog.search import search_items
from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db


def test_it_publishes_selected_drafts_and_skips_published_releases(admin_client):
    draft = make_release("r2", published=False)
    published = make_release("r1")
    first_published_at = published.published_at

    response = admin_client.post(
        reverse("admin:benchmark_datasetrelease_changelist"),
        {"action": "publish_releases", "_selected_action": [draft.pk, published.pk]},
        follow=True,
    )

    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.status == DatasetRelease.Status.PUBLISHED
    assert draft.published_at is not None
    assert published.published_at == first_published_at
    html = response.content.decode()
    assert "Published 1 release(s)." in html
    assert "Skipped 1 release(s) that were already published." in html


def test_release_pages_show_counts_and_a_read_only_manifest(admin_client):
    release = make_release("r1", manifest={"files": {"us/a.json": {"sha256": "f" * 64}}})
    add_triples(release, count=3)

    changelist = admin_client.get(reverse("admin:benchmark_datasetrelease_changelist"))
    assert [r.n_items for r in changelist.context["cl"].result_list] == [3]
    change = admin_client.get(reverse("admin:benchmark_datasetrelease_change", args=[release.pk]))
    html = change.content.decode()
    assert "<pre" in html
    assert "f" * 64 in html
    assert 'name="manifest"' not in html
    assert 'name="status"' not in html


def test_triple_changelist_filters_and_searches(admin_client):
    release = make_release("r1")
    add_triples(release, "us", question="Should tariffs rise?")
    add_triples(release, "de", question="Should coal end?")
    url = reverse("admin:benchmark_item_changelist")

    searched = admin_client.get(url, {"q": "coal"}).context["cl"].result_list
    assert [t.data["question"] for t in searched] == ["Should coal end?"]
    filtered = admin_client.get(url, {"slice": "nation=us"})
    assert [t.data["question"] for t in filtered.context["cl"].result_list] == [
        "Should tariffs rise?"
    ]


def test_editing_a_triple_keeps_it_findable_by_full_text_search(admin_client):
    [triple] = add_triples(make_release("r1"), question="Should tariffs rise?")
    url = reverse("admin:benchmark_item_change", args=[triple.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        release=triple.release_id,
        data=json.dumps({**triple.data, "question": "Should submarines be banned?"}),
        slices=json.dumps(triple.slices),
        extra=json.dumps(triple.extra),
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert search_items(Item.objects.all(), "submarine", [get_benchmark("navab")]).get() == triple


def test_editing_a_triple_rebuilds_the_release_downloads(admin_client, settings, tmp_path):
    from leaderboard.catalog.exports import release_file

    settings.MEDIA_ROOT = tmp_path
    [triple] = add_triples(make_release("r1"), question="Should tariffs rise?")
    before = release_file(triple.release, "jsonl")
    url = reverse("admin:benchmark_item_change", args=[triple.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        release=triple.release_id,
        data=json.dumps({**triple.data, "question": "Should submarines be banned?"}),
        slices=json.dumps(triple.slices),
        extra=json.dumps(triple.extra),
    )
    assert admin_client.post(url, data).status_code == 302

    triple.release.refresh_from_db()
    after = release_file(triple.release, "jsonl")
    assert after.sha256 != before.sha256
    assert "submarines" in after.path.read_text()


@pytest.mark.parametrize(
    ("slices", "data", "field", "message"),
    [
        (["us", "quoted"], None, "slices", "exactly the keys nation, mode"),
        ({"nation": "us"}, None, "slices", "exactly the keys nation, mode"),
        ({"nation": "us", "mode": ""}, None, "slices", "non-empty string"),
        (None, {"foo": 1}, "data", "question, statement, reverse_statement"),
    ],
)
def test_an_edit_that_breaks_the_declaration_is_refused_not_a_500(
    admin_client, slices, data, field, message
):
    [triple] = add_triples(make_release("r1"), question="Should tariffs rise?")
    url = reverse("admin:benchmark_item_change", args=[triple.pk])
    form = admin_client.get(url).context["adminform"].form
    post = {name: value for name, value in form.initial.items() if value is not None}
    post.update(
        release=triple.release_id,
        data=json.dumps(triple.data if data is None else data),
        slices=json.dumps(triple.slices if slices is None else slices),
        extra=json.dumps(triple.extra),
    )

    response = admin_client.post(url, post)

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    triple.refresh_from_db()
    assert triple.slices == {"nation": triple.slices["nation"], "mode": triple.slices["mode"]}
