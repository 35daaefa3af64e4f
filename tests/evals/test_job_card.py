"""One typed reproducibility card for every benchmark: pages read its properties, whatever
shape a benchmark stored its release and judge in."""

from __future__ import annotations

import pytest

from leaderboard.evals.card import JobCard, JudgePanel, PanelJudge

NAVAB = {
    "device": "cpu",
    "release": {"version": "v1", "triples_sha256": "abc"},
    "judge": {"pretrained": "org/judge", "revision": "r1"},
}
DIVERVALUE = {
    "device": "cpu",
    "release": {"path": "/x", "items_sha256": "def"},
    "judge": {
        "paa": {
            "judges": [
                {"name": "j1", "model": "org/a", "revision": None, "kind": "hf",
                 "apply_chat_template": True, "max_gen_toks": 64},
            ],
            "unparsable_outputs": {"j1": 2},
            "n_items": 10,
            "abstained_items": 1,
        },
        "opa": {"run": False},
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "version", "file", "sha256"),
    [(NAVAB, "v1", "triples.jsonl", "abc"), (DIVERVALUE, "r-job", "items.jsonl", "def")],
)
def test_it_names_the_release_and_its_file_whatever_the_benchmark(stored, version, file, sha256):
    card = JobCard(stored, job_release="r-job")
    assert (card.release_version, card.release_file, card.release_sha256) == (version, file, sha256)
    assert card["device"] == "cpu"


def test_it_names_navabs_one_judge():
    card = JobCard(NAVAB)
    assert card.single_judge == "org/judge@r1"
    assert card.judge_panels == []


def test_it_lists_divervalues_judge_panels():
    card = JobCard(DIVERVALUE)
    assert card.single_judge == ""
    assert card.judge_panels == [
        JudgePanel(
            method="paa",
            judges=[PanelJudge("j1", "org/a", "", "hf", True, 64, unparsable=2)],
            n_items=10,
            abstained_items=1,
        )
    ]


def test_a_job_without_a_card_has_an_empty_one():
    card = JobCard({}, job_release="v1")
    assert not card
    assert (card.release_version, card.release_sha256, card.single_judge) == ("v1", "", "")
