"""Boards say when each row was evaluated and on which release, and link a hub model to its
model card at the pinned revision."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_release, ranked_model

pytestmark = pytest.mark.django_db
URL = reverse("board", args=["navab"])
COMMIT = "a" * 40


def test_each_row_says_when_and_on_which_release_it_was_evaluated(client, release):
    model = ranked_model("org/alpha", release, 0.6, revision=COMMIT)
    job = model.jobs.get()
    html = client.get(URL).content.decode()
    row = html[html.index('data-model="org/alpha"') :]
    row = row[: row.index("</tr>")]
    assert f'datetime="{timezone.localtime(job.finished_at).isoformat()}"' in row
    assert f"on {release.version}" in row
    assert f'href="https://huggingface.co/org/alpha/tree/{COMMIT}"' in row
    assert "data-older-release" not in row


def test_a_board_of_an_older_release_says_so_on_each_row(client, release):
    ranked_model("org/alpha", release, 0.6)
    newer = make_release("r-newer", per_cell=1, signal=False)
    newer.published_at = timezone.now()
    newer.save()
    html = client.get(URL, {"release": release.version}).content.decode()
    assert "data-older-release" in html and "r-newer" in html


def test_the_model_page_links_a_hub_model_to_its_card_and_a_served_one_nowhere(
    client, release, django_capture_on_commit_callbacks
):
    model = ranked_model("org/alpha", release, 0.6, revision=COMMIT)
    page = client.get(model.get_absolute_url()).content.decode()
    assert (
        f'href="https://huggingface.co/org/alpha/tree/{COMMIT}" rel="noopener noreferrer" id="model-card"'
        in page
    )
    model.endpoint_url = "http://127.0.0.1:9/v1"
    # The page is kept per board version, bumped once the edit commits.
    with django_capture_on_commit_callbacks(execute=True):
        model.save()
    assert 'id="model-card"' not in client.get(model.get_absolute_url()).content.decode()
