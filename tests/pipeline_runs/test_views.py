"""The run page and its status JSON: staff only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.pipeline_runs.models import RunStatus


def test_it_shows_the_run_with_its_stages(admin_client, demo_run):
    demo_run.status = RunStatus.RUNNING
    demo_run.current_stage = "topics"
    demo_run.counts = {"ingest": {"documents": 42}}
    demo_run.dropped = {"ingest": {"duplicate": 2}}
    demo_run.save()
    response = admin_client.get(demo_run.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "documents=42" in body and "duplicate=2" in body
    assert reverse("pipeline-run-status", args=[demo_run.pk]) in body
    assert 'data-active="1"' in body  # the page polls while the run is running


def test_the_status_json_reports_progress_and_stages(admin_client, demo_run):
    demo_run.status = RunStatus.RUNNING
    demo_run.current_stage = "extraction"
    demo_run.progress_done, demo_run.progress_total = 5, 20
    demo_run.counts = {"ingest": {"documents": 42}}
    demo_run.save()
    data = admin_client.get(reverse("pipeline-run-status", args=[demo_run.pk])).json()
    assert (data["status"], data["stage"], data["percent"]) == ("running", "extraction", 25)
    assert data["active"] is True
    assert data["stages_done"] == 1
    states = {row["stage"]: row["state"] for row in data["stages"]}
    assert states["ingest"] == "done"
    assert states["extraction"] == "running"
    assert states["release"] == "pending"
    assert data["release"] is None


def test_it_lists_runs(admin_client, demo_run):
    response = admin_client.get(reverse("pipeline-run-list"))
    assert response.status_code == 200
    assert demo_run.get_absolute_url().encode() in response.content


def test_anonymous_users_are_sent_to_log_in(client, demo_run):
    response = client.get(demo_run.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("pipeline-run-status", args=[demo_run.pk])).status_code == 403


@pytest.mark.parametrize("name", ["pipeline-run-detail", "pipeline-run-status"])
def test_members_who_are_not_staff_are_forbidden(other_client, demo_run, name):
    assert other_client.get(reverse(name, args=[demo_run.pk])).status_code == 403
