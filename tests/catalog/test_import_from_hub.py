"""`import_release --from-hub ORG/NAME --revision SHA` (issue 22): the published files
downloaded by huggingface_hub from a local hub-compatible server, imported, and the commit on
the release card; the NaVAB repository as it is today (China's official file moved to `zh/`
while its card names `China/`)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from leaderboard.catalog.models import DatasetRelease
from tests.hub_server import HubRepo, local_hub
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CARD = "---\nconfigs:\n- config_name: China\n  data_files:\n  - split: quoted\n    path: China/human_statement_result.json\n---\n"


@pytest.fixture(autouse=True)
def _media_and_online(monkeypatch: pytest.MonkeyPatch, settings: object, tmp_path: Path) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]


def navab_repo(tmp_path: Path) -> HubRepo:
    root = write_navab(
        tmp_path / "published",
        {
            "README.md": CARD,
            "China/human_statement_result.json": [navab_record(i) for i in range(3)],
            "zh/official_statement_result.json": [
                navab_record(i, source="unknown") for i in range(10, 12)
            ],
            "US/human_statement_result.json": [navab_record(i) for i in range(20, 22)],
        },
    )
    return HubRepo({COMMIT: root}, refs={"main": COMMIT})


def from_hub(hub_url: str, *args: str) -> str:
    out = StringIO()
    call_command(
        "import_release",
        "--benchmark",
        "navab",
        "--from-hub",
        "JadenGGGeee/NaVAB",
        "--hub-endpoint",
        hub_url,
        "--skip-exports",
        *args,
        stdout=out,
    )
    return out.getvalue()


def test_it_downloads_the_pinned_commit_imports_it_and_the_card_names_it(
    tmp_path: Path, admin_client: Client
) -> None:
    with local_hub({"JadenGGGeee/NaVAB": navab_repo(tmp_path)}) as hub:
        output = from_hub(hub.url, "--revision", COMMIT)
    assert any(r.startswith("GET /datasets/JadenGGGeee/NaVAB/resolve/") for r in hub.requests)
    release = DatasetRelease.objects.get()
    assert release.version == "navab-01234567"
    assert release.items.count() == 7
    assert release.manifest["counts"]["cn/official"] == 2  # read from zh/, as the hub holds it
    assert release.manifest["origin"]["revision"] == COMMIT
    assert COMMIT in output
    page = admin_client.get(reverse("release-detail", args=["navab", release.version]))
    text = page.content.decode()
    assert "JadenGGGeee/NaVAB" in text and COMMIT in text
    assert f"{hub.url}/datasets/JadenGGGeee/NaVAB/tree/{COMMIT}" in text


def test_a_branch_is_recorded_with_the_commit_it_resolved_to(tmp_path: Path) -> None:
    with local_hub({"JadenGGGeee/NaVAB": navab_repo(tmp_path)}) as hub:
        from_hub(hub.url, "--revision", "main", "--version", "hub-main")
    origin = DatasetRelease.objects.get(version="hub-main").manifest["origin"]
    assert (origin["revision"], origin["requested_revision"]) == (COMMIT, "main")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "needs --revision"),
        (("--revision", "f" * 40), "has no revision"),
    ],
)
def test_it_refuses_clearly_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    with (
        local_hub({"JadenGGGeee/NaVAB": navab_repo(tmp_path)}) as hub,
        pytest.raises(CommandError, match=message),
    ):
        from_hub(hub.url, *args)
    assert not DatasetRelease.objects.exists()


def test_a_path_and_the_hub_are_not_both_given(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="either PATH or --from-hub"):
        call_command("import_release", str(tmp_path), "--benchmark", "navab", "--from-hub", "A/B")
    with pytest.raises(CommandError, match="go with --from-hub"):
        call_command("import_release", str(tmp_path), "--benchmark", "navab", "--revision", "x")
