"""Per-example results stored as rows plus the job's details file read back whole: every
field a page or the API shows, for every item (results of one item spanning file blocks too)."""

import pytest
from django.urls import reverse

from leaderboard.evals import sample_details
from leaderboard.evals.models import SampleResult
from tests.factories import finished_job, make_model, make_release

pytestmark = pytest.mark.django_db

SHOWN = ("job_id", "item_id", "method", "value", "correct", "chosen")


def stored_results(settings, tmp_path, methods=("mc", "aj", "aj_ref")):
    settings.MEDIA_ROOT = tmp_path / "media"
    release = make_release(per_cell=2, signal=False)
    job = finished_job(make_model("org/stored"), release, methods=["mc"])
    rows = [
        SampleResult.with_long(
            {"half": "pos" if i % 2 else "neg"},
            {
                "loglikelihoods": {"A": -1.0 - i / 7, "B": -2.5},
                "answer": f"Réponse {i} \u00ab {method} \u00bb",
                "judges": [{"judge": "ref", "raw": f"Verdict {i}"}],
            },
            job=job,
            item=item,
            method=method,
            value=i / 3,
            correct=None if method == "aj_ref" else i % 3 == 0,
            chosen="" if i % 5 == 0 else "AB"[i % 2],
        )
        for i, item in enumerate(release.items.order_by("id"))
        for method in methods
    ]
    SampleResult.store(job.pk, rows)
    return release, job, rows


def test_every_shown_field_of_every_result_survives_the_store_round_trip(settings, tmp_path):
    _, job, rows = stored_results(settings, tmp_path)
    assert len(rows) > sample_details.BLOCK  # an item's results run over block ends
    read = list(SampleResult.objects.filter(job=job))
    sample_details.attach(read)
    expected = sorted((*(getattr(r, f) for f in SHOWN), r.parts, r.details) for r in rows)
    assert sorted((*(getattr(r, f) for f in SHOWN), r.parts, r.details) for r in read) == expected
    # One item alone, as its page reads it: all its methods, nothing of its neighbours.
    item_id = rows[len(rows) // 2].item_id
    one = sample_details.read_job(job.pk, [item_id])
    assert one == {
        (r.item_id, r.method): (r.parts, r.details) for r in rows if r.item_id == item_id
    }


def test_a_result_read_alone_loads_its_own_details(settings, tmp_path):
    _, job, rows = stored_results(settings, tmp_path)
    last = SampleResult.objects.get(job=job, item_id=rows[-1].item_id, method=rows[-1].method)
    assert (last.parts, last.details) == (rows[-1].parts, rows[-1].details)


def test_the_item_page_shows_each_results_answer_from_the_file(client, settings, tmp_path):
    release, _, rows = stored_results(settings, tmp_path, methods=("aj",))
    first = rows[1]
    url = reverse("item-results", args=["navab", release.version, first.item.uid])
    page = client.get(url).content.decode()
    assert "Réponse 1 « aj »" in page and "Verdict 1" in page


def test_a_deleted_jobs_details_file_goes_with_it(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    _, job, _ = stored_results(settings, tmp_path)
    path = sample_details.job_path(job.pk)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        job.delete()
    assert not path.exists()
    assert sample_details.read_job(job.pk or 0) == {}


def test_a_value_json_cannot_hold_is_refused_and_leaves_no_file(tmp_path):
    from leaderboard.evals.sample_details import UnstorableOutput, job_path, write_job

    rows = [(1, "mc", {}, {"loglikelihoods": {"A": float("nan"), "B": -1.0}})]
    with pytest.raises(UnstorableOutput, match="item 1, mc"):
        write_job(7, rows, base=tmp_path)
    assert not job_path(7, tmp_path).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_jobs_outcomes_are_read_once_until_its_file_changes(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "outcomes-once",
        }
    }
    sample_details.write_job(7, [(1, "opa", {}, {"outcome": 0.5}), (2, "paa", {}, {})])
    reads: list[int] = []
    real = sample_details.read_job

    def counted(job_id, *args, **kwargs):
        reads.append(job_id)
        return real(job_id, *args, **kwargs)

    monkeypatch.setattr(sample_details, "read_job", counted)
    assert sample_details.outcomes(7, "opa") == {1: 0.5}
    assert sample_details.outcomes(7, "opa") == {1: 0.5}
    assert reads == [7]  # the second board build reads no file
    sample_details.rewrite(7, {(1, "opa"): ({}, {"outcome": -12.25})})
    reads.clear()
    assert sample_details.outcomes(7, "opa") == {1: -12.25}  # a rewritten file is read again
    assert reads == [7]
    assert sample_details.outcomes(8, "opa") == {}  # no file, nothing kept
