"""Downloading a published release from a hub: the real huggingface_hub code path against a
local server that speaks the hub's endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.hub_release import HubDownloadFailed, download_release
from tests.hub_server import HubRepo, local_hub

COMMIT = "a" * 40
LATER = "b" * 40


@pytest.fixture(autouse=True)
def _online(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite keeps hubs offline (conftest); these tests reach only their own local server.
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def _repo(tmp_path: Path) -> HubRepo:
    old = tmp_path / "old"
    (old / "China").mkdir(parents=True)
    (old / "China" / "human_statement_result.json").write_text("[]")
    new = tmp_path / "new"
    (new / "zh").mkdir(parents=True)
    (new / "zh" / "human_statement_result.json").write_text('[{"statement": "x"}]')
    (new / "README.md").write_text("# card\n")
    return HubRepo({COMMIT: old, LATER: new}, refs={"main": LATER})


def test_it_downloads_the_files_of_the_pinned_commit(tmp_path: Path) -> None:
    with local_hub({"Org/Set": _repo(tmp_path)}) as hub:
        got = download_release("Org/Set", COMMIT, tmp_path / "dl", endpoint=hub.url)
    assert got.commit == COMMIT
    assert got.files == ("China/human_statement_result.json",)
    assert (got.path / "China" / "human_statement_result.json").read_text() == "[]"
    assert got.origin()["revision"] == COMMIT
    assert got.origin()["url"].endswith(f"/datasets/Org/Set/tree/{COMMIT}")


def test_a_branch_is_resolved_to_its_commit_and_both_are_recorded(tmp_path: Path) -> None:
    with local_hub({"Org/Set": _repo(tmp_path)}) as hub:
        got = download_release("Org/Set", "main", tmp_path / "dl", endpoint=hub.url)
    assert (got.commit, got.requested) == (LATER, "main")
    assert got.files == ("README.md", "zh/human_statement_result.json")
    assert got.path.name == LATER


@pytest.mark.parametrize(
    ("repo_id", "revision", "message"),
    [
        ("Org/Missing", COMMIT, "no dataset Org/Missing"),
        ("Org/Set", "c" * 40, "has no revision"),
        ("Org/Set", "nope", "has no revision"),
        ("not a repo", COMMIT, "not a hub repository name"),
        ("Org/Set", " ", "a revision is required"),
    ],
)
def test_it_fails_clearly(tmp_path: Path, repo_id: str, revision: str, message: str) -> None:
    with (
        local_hub({"Org/Set": _repo(tmp_path)}) as hub,
        pytest.raises(HubDownloadFailed, match=message),
    ):
        download_release(repo_id, revision, tmp_path / "dl", endpoint=hub.url)


def test_an_unreachable_hub_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(HubDownloadFailed, match=r"failed|no dataset"):
        download_release("Org/Set", COMMIT, tmp_path / "dl", endpoint="http://127.0.0.1:9")
