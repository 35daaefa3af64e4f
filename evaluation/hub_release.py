"""A benchmark's published files, downloaded from the Hugging Face hub at a pinned commit.

Any benchmark reads what this brings (its `read_published` knows the layout, moved folders
included); the commit goes on the release card, so a release names exactly what it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

COMMIT = re.compile(r"[0-9a-f]{40}")
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


class HubDownloadFailed(Exception):
    """The hub did not give the files; the message says why in the operator's terms."""


@dataclass(frozen=True)
class HubRelease:
    repo_id: str
    #: the commit the files come from (a branch or tag asked for is resolved to it)
    commit: str
    #: what the operator asked for (the commit itself, or a branch/tag name)
    requested: str
    endpoint: str
    path: Path
    files: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{self.endpoint.rstrip('/')}/datasets/{self.repo_id}/tree/{self.commit}"

    def origin(self) -> dict[str, str]:
        """What the release card records of where its files came from."""
        return {
            "hub": self.repo_id,
            "revision": self.commit,
            "requested_revision": self.requested,
            "url": self.url,
        }


def download_release(
    repo_id: str,
    revision: str,
    into: Path,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    progress: bool = False,
) -> HubRelease:
    """Download the dataset repository REPO_ID at REVISION into INTO/<org>--<name>/<commit>/.

    A branch or tag is resolved to its commit first, so what is downloaded and what is
    recorded are the same files however the branch moves later. Raises HubDownloadFailed.
    """
    from httpx2 import HTTPError
    from huggingface_hub import HfApi, constants, snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils.tqdm import disable_progress_bars, enable_progress_bars

    if not REPO_ID.fullmatch(repo_id):
        raise HubDownloadFailed(f"{repo_id!r} is not a hub repository name (ORG/NAME)")
    if not revision.strip():
        raise HubDownloadFailed("a revision is required: a commit (recorded on the card)")
    endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
    if progress:
        enable_progress_bars()
    else:
        disable_progress_bars()
    try:
        commit = revision
        if not COMMIT.fullmatch(revision):
            info = HfApi(endpoint=endpoint, token=token).dataset_info(repo_id, revision=revision)
            if not info.sha:
                raise HubDownloadFailed(f"the hub did not say which commit {revision!r} is")
            commit = info.sha
        target = into / repo_id.replace("/", "--") / commit
        snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=commit,
            local_dir=target,
            endpoint=endpoint,
            token=token,
        )
    except RevisionNotFoundError as exc:
        raise HubDownloadFailed(f"{repo_id} has no revision {revision!r}") from exc
    except RepositoryNotFoundError as exc:
        raise HubDownloadFailed(
            f"no dataset {repo_id} on {endpoint} (or it is private and no token was given)"
        ) from exc
    except OfflineModeIsEnabled as exc:
        raise HubDownloadFailed("the hub is switched off here (HF_HUB_OFFLINE is set)") from exc
    except (HfHubHTTPError, HTTPError, OSError) as exc:
        raise HubDownloadFailed(f"downloading {repo_id}@{revision} failed: {exc}") from exc
    files = tuple(
        sorted(
            str(p.relative_to(target))
            for p in target.rglob("*")
            if p.is_file() and ".cache" not in p.relative_to(target).parts
        )
    )
    if not files:
        raise HubDownloadFailed(f"{repo_id}@{commit} holds no files")
    return HubRelease(repo_id, commit, revision, endpoint, target, files)
