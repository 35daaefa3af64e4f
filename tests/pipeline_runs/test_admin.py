"""Operating runs in the admin: creating one from a config, deciding topics, cancelling."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from leaderboard.pipeline_runs.models import Decision, PipelineRun, RunStatus, TopicApproval

from .conftest import DEMO_CONFIG


def add_topics(run: PipelineRun, n: int = 3) -> list[TopicApproval]:
    return [
        TopicApproval.objects.create(
            run=run, topic_id=f"us-{i}", nation="us", keywords=["border"], proposed=i % 2 == 0
        )
        for i in range(n)
    ]


def test_it_creates_a_run_from_a_config_path(admin_client, admin_user, tmp_path):
    url = reverse("admin:pipelines_pipelinerun_add")
    data = {
        "config_path": str(DEMO_CONFIG),
        "config_text": "",
        "run_dir_override": str(tmp_path / "admin-run"),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    run = PipelineRun.objects.get()
    assert run.status == RunStatus.PENDING
    assert run.run_dir == str(tmp_path / "admin-run")
    assert run.config_path == str(DEMO_CONFIG)
    assert "release_version" in run.config_text  # a snapshot of the file
    assert run.config["llm"]["backend"] == "scripted"
    assert run.created_by == admin_user


def test_it_refuses_a_config_that_cannot_run(admin_client):
    url = reverse("admin:pipelines_pipelinerun_add")
    response = admin_client.post(url, {"config_path": "", "config_text": 'run_dir = "x"\n'})
    assert response.status_code == 200
    assert "inputs is required" in str(response.context["adminform"].form.errors)
    assert not PipelineRun.objects.exists()


def test_it_refuses_a_second_live_run_in_the_same_directory(admin_client, demo_run):
    url = reverse("admin:pipelines_pipelinerun_add")
    data = {"config_path": str(DEMO_CONFIG), "run_dir_override": demo_run.run_dir}
    response = admin_client.post(url, data)
    assert "is in use by" in str(response.context["adminform"].form.errors)


def test_the_run_page_in_the_admin_shows_live_fields(admin_client, demo_run):
    response = admin_client.get(reverse("admin:pipelines_pipelinerun_change", args=[demo_run.pk]))
    assert response.status_code == 200
    assert b"Counts per stage" in response.content
    assert demo_run.get_absolute_url().encode() in response.content


def test_approving_records_the_reviewer_and_time(admin_client, admin_user, demo_run):
    topics = add_topics(demo_run)
    before = timezone.now()
    url = reverse("admin:pipelines_topicapproval_changelist")
    admin_client.post(
        url, {"action": "accept_proposal", "_selected_action": [t.pk for t in topics]}
    )
    decided = {t.topic_id: t for t in TopicApproval.objects.all()}
    assert {k: t.decision for k, t in decided.items()} == {
        "us-0": Decision.APPROVED,
        "us-1": Decision.REJECTED,
        "us-2": Decision.APPROVED,
    }
    assert all(t.reviewer == admin_user and t.decided_at >= before for t in decided.values())


def test_editing_one_decision_records_the_reviewer(admin_client, admin_user, demo_run):
    topic = add_topics(demo_run, 1)[0]
    url = reverse("admin:pipelines_topicapproval_change", args=[topic.pk])
    response = admin_client.post(url, {"decision": Decision.REJECTED})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert (topic.decision, topic.reviewer) == (Decision.REJECTED, admin_user)
    assert topic.decided_at is not None


def test_decisions_are_refused_once_the_run_passed_approval(admin_client, demo_run):
    topic = add_topics(demo_run, 1)[0]
    demo_run.counts = {"approval": {"approved": 0, "rejected": 1}}
    demo_run.save()
    url = reverse("admin:pipelines_topicapproval_changelist")
    response = admin_client.post(
        url, {"action": "approve_selected", "_selected_action": [topic.pk]}, follow=True
    )
    assert any("past the approval stage" in str(m) for m in response.context["messages"])
    topic.refresh_from_db()
    assert topic.decision == Decision.PENDING


def test_it_cancels_a_waiting_run(admin_client, demo_run):
    demo_run.status = RunStatus.WAITING_APPROVAL
    demo_run.save()
    url = reverse("admin:pipelines_pipelinerun_changelist")
    admin_client.post(url, {"action": "cancel_runs", "_selected_action": [demo_run.pk]})
    demo_run.refresh_from_db()
    assert demo_run.status == RunStatus.CANCELLED
    assert demo_run.finished_at is not None


def test_the_add_page_asks_for_a_config(admin_client):
    response = admin_client.get(reverse("admin:pipelines_pipelinerun_add"))
    assert response.status_code == 200
    assert b"run_dir_override" in response.content


def test_a_decision_is_read_only_once_the_run_passed_approval(admin_client, demo_run):
    topic = add_topics(demo_run, 1)[0]
    url = reverse("admin:pipelines_topicapproval_change", args=[topic.pk])
    assert b'name="decision"' in admin_client.get(url).content
    demo_run.counts = {"approval": {"approved": 0, "rejected": 1}}
    demo_run.save()
    assert b'name="decision"' not in admin_client.get(url).content
