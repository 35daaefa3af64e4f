"""A local server that answers the Hugging Face hub's dataset endpoints for folders on disk.

It speaks what `huggingface_hub` asks when it downloads a dataset repository (repository info,
the recursive file tree, HEAD and GET of `resolve/<revision>/<path>`), with the hub's error
headers, so the site's real download code runs against it with no network.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class HubRepo:
    #: commit -> the folder holding the repository's files at that commit
    commits: dict[str, Path]
    #: branch or tag -> commit
    refs: dict[str, str] = field(default_factory=dict)

    def commit_of(self, revision: str) -> str | None:
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


@dataclass
class LocalHub:
    repos: dict[str, HubRepo]
    url: str = ""
    requests: list[str] = field(default_factory=list)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _handler(hub: LocalHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _repo(self, repo_id: str, revision: str) -> tuple[str, Path] | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                return None
            commit = repo.commit_of(revision)
            if commit is None:
                self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                return None
            return commit, repo.commits[commit]

        def do_GET(self) -> None:
            self._serve(body=True)

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def _serve(self, *, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            parts = path.strip("/").split("/")
            # /api/datasets/ORG/NAME/revision/REV  and  /api/datasets/ORG/NAME/tree/REV
            if parts[:2] == ["api", "datasets"] and len(parts) >= 6:
                repo_id, what, revision = "/".join(parts[2:4]), parts[4], parts[5]
                found = self._repo(repo_id, revision)
                if found is None:
                    return
                commit, root = found
                files = _files(root)
                if what == "revision":
                    siblings = [{"rfilename": str(p.relative_to(root))} for p in files]
                    self._json({"id": repo_id, "sha": commit, "siblings": siblings})
                elif what == "tree":
                    self._json(
                        [
                            {
                                "type": "file",
                                "path": str(p.relative_to(root)),
                                "size": p.stat().st_size,
                                "oid": _git_blob_id(p.read_bytes()),
                            }
                            for p in files
                        ]
                    )
                else:
                    self._error(404, "EntryNotFound", path)
                return
            # /datasets/ORG/NAME/resolve/REV/PATH...
            if parts[:1] == ["datasets"] and len(parts) >= 6 and parts[3] == "resolve":
                found = self._repo("/".join(parts[1:3]), parts[4])
                if found is None:
                    return
                commit, root = found
                target = (root / "/".join(parts[5:])).resolve()
                if not target.is_file() or root.resolve() not in target.parents:
                    self._error(404, "EntryNotFound", f"{path} does not exist")
                    return
                data = target.read_bytes()
                self.send_response(200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{_git_blob_id(data)}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    self.wfile.write(data)
                return
            self._error(404, "EntryNotFound", f"{path} is not a hub address")

    return Handler


@contextmanager
def local_hub(repos: dict[str, HubRepo]) -> Iterator[LocalHub]:
    """Serve REPOS on a free port for the duration of the block."""
    hub = LocalHub(repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
