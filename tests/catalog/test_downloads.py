"""Downloads of whole releases and of the current filter, in JSONL, CSV and Parquet."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.urls import reverse

from evaluation.benchmarks.navab.records import RECORD_FIELDS, iter_triples
from evaluation.release import load_manifest
from leaderboard.catalog import exports
from leaderboard.catalog.exports import release_directory, release_export_dir, release_file
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease, Item
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(navab_dir: Path) -> DatasetRelease:
    return import_release(navab_dir, version="v1", publish=True).release


@pytest.fixture
def draft(tmp_path: Path) -> DatasetRelease:
    root = write_navab(tmp_path / "draft", {"UK/human_statement_result.json": [navab_record(40)]})
    return import_release(root, version="v2-draft").release


def body(response) -> bytes:
    # Consuming the content closes the response (the test client wraps it to do so).
    return b"".join(response.streaming_content)


# NaVAB's file columns, as stock lm-eval reproduction reads them: they must never change.
NAVAB_COLUMNS = (
    "uid",
    "nation",
    "mode",
    "question",
    "statement",
    "reverse_statement",
    "speaker",
    "topic",
    "language",
    "news_excerpt",
    "release",
)


def expected_records(queryset) -> list[dict[str, str]]:
    return [
        {
            "uid": t.uid,
            **t.slices,
            **{k: v for k, v in t.data.items() if k in NAVAB_COLUMNS},
            "release": t.release.version,
        }
        for t in queryset.for_export()
    ]


def parse(fmt: str, data: bytes) -> list[dict[str, str]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    return pq.read_table(io.BytesIO(data)).to_pylist()


def by_uid(records: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["uid"]: r for r in records}


# --- whole releases -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_whole_release_files_round_trip_with_a_checksum(client: Client, release, fmt: str):
    url = reverse("download-release", args=["navab", release.version, fmt])

    response = client.get(url)

    assert response.status_code == 200
    data = body(response)
    checksum = hashlib.sha256(data).hexdigest()
    assert response["X-Checksum-SHA256"] == checksum
    assert response["ETag"] == f'"{checksum}"'
    assert f"navab-v1-triples.{fmt}" in response["Content-Disposition"]
    records = parse(fmt, data)
    assert records == expected_records(Item.objects.filter(release=release))
    assert list(records[0]) == list(RECORD_FIELDS)
    release.refresh_from_db()
    entry = release.manifest["exports"][fmt]
    assert (entry["sha256"], entry["bytes"], entry["records"]) == (checksum, len(data), 12)
    assert entry["path"] == f"releases/v1/items.{fmt}"


def test_a_release_file_from_before_items_were_generic_is_rebuilt_and_its_stale_copy_removed(
    client: Client, release
):
    # A deployed site stored `triples.jsonl` and recorded it in the manifest; the download
    # URL answers from the new file and the old one does not linger on disk.
    directory = release_export_dir(release)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "triples.jsonl").write_bytes(b"stale")
    release.manifest["exports"] = {
        "jsonl": {"path": "releases/v1/triples.jsonl", "sha256": "0" * 64, "bytes": 5}
    }
    release.save(update_fields=["manifest"])

    response = client.get(reverse("download-release", args=["navab", release.version, "jsonl"]))

    assert response.status_code == 200
    assert len(parse("jsonl", body(response))) == 12
    assert (directory / "items.jsonl").is_file()
    assert not (directory / "triples.jsonl").exists()


def test_the_jsonl_loads_with_datasets(release, tmp_path: Path):
    import datasets

    path = release_file(release, "jsonl").path

    loaded = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf")
    )

    assert loaded.column_names == list(RECORD_FIELDS)
    assert loaded.num_rows == 12
    assert by_uid(list(loaded)) == by_uid(expected_records(Item.objects.all()))


def test_csv_quotes_commas_quotes_and_newlines(release):
    data = release_file(release, "csv").path.read_bytes()

    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))

    assert rows[0] == list(RECORD_FIELDS)
    statements = {row[RECORD_FIELDS.index("statement")] for row in rows[1:]}
    assert 'Tariffs, "reciprocal" ones included, protect jobs;\nsay officials.' in statements
    assert "政府应当扩大公立医院的规模以保障人民健康。" in statements


def test_release_files_are_built_once(release, monkeypatch):
    first = release_file(release, "parquet")
    calls = []

    def encode(*args):
        calls.append(args)
        return iter([b"x"])

    monkeypatch.setattr(exports, "encode", encode)

    again = release_file(DatasetRelease.objects.get(pk=release.pk), "parquet")

    assert again == first
    assert calls == []


def test_every_format_is_built_from_one_read_of_the_items(release, monkeypatch):
    """After an import the three files come from one pass over the items (each pass read and
    decoded every item), and each is the file built on its own."""
    passes = []
    read_items = exports.export_rows

    def counted(*args):
        passes.append(args)
        return read_items(*args)

    monkeypatch.setattr(exports, "export_rows", counted)
    together = exports.release_files(release)

    assert len(passes) == 1
    release.refresh_from_db()
    assert set(release.manifest["exports"]) == set(exports.FORMATS)
    for fmt, export in together.items():
        export.path.unlink()
        alone = release_file(DatasetRelease.objects.get(pk=release.pk), fmt)
        assert (alone.sha256, alone.bytes, alone.records) == (
            export.sha256,
            export.bytes,
            export.records,
        )
        assert alone.records == release.items.count()


def test_a_hand_edited_exports_section_is_rebuilt(release):
    release.manifest["exports"] = "edited by hand"
    release.save()

    export = release_file(release, "csv")

    release.refresh_from_db()
    assert release.manifest["exports"]["csv"]["sha256"] == export.sha256


def test_release_files_are_rebuilt_when_a_draft_is_replaced(draft, tmp_path: Path):
    before = release_file(draft, "jsonl")
    root = write_navab(tmp_path / "draft", {"UK/human_statement_result.json": [navab_record(41)]})
    import_release(root, version=draft.version)

    after = release_file(DatasetRelease.objects.get(pk=draft.pk), "jsonl")

    assert after.sha256 != before.sha256
    assert parse("jsonl", after.path.read_bytes())[0]["question"] == navab_record(41)["generated Q"]


def test_an_unchanged_file_answers_not_modified(client: Client, release):
    url = reverse("download-release", args=["navab", release.version, "csv"])
    first = client.get(url)
    body(first)
    etag = first["ETag"]

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_drafts_are_downloadable_by_staff_only(
    client: Client, other_client: Client, staff_client: Client, draft
):
    url = reverse("download-release", args=["navab", draft.version, "jsonl"])
    filtered = reverse("download-filtered", args=["navab", "jsonl"]) + f"?release={draft.version}"

    assert client.get(url).status_code == 404
    assert client.get(filtered).status_code == 404
    assert other_client.get(url).status_code == 404
    response = staff_client.get(url)
    assert response.status_code == 200
    assert len(parse("jsonl", body(response))) == 1
    assert len(parse("jsonl", body(staff_client.get(filtered)))) == 1


@pytest.mark.parametrize("name", ["download-release", "download-filtered"])
def test_an_unknown_format_is_not_found_with_a_clear_message(client: Client, release, name: str):
    args = ["navab", release.version, "xlsx"] if name == "download-release" else ["navab", "xlsx"]

    response = client.get(reverse(name, args=args))

    assert response.status_code == 404
    assert "Unknown download format 'xlsx'" in response.content.decode()
    assert ".jsonl, .csv, .parquet" in response.content.decode()


def test_an_unknown_release_is_not_found(client: Client, release):
    assert client.get(reverse("download-release", args=["navab", "nope", "csv"])).status_code == 404


# --- the current filter -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_filtered_downloads_apply_the_filter(client: Client, release, fmt: str):
    url = reverse("download-filtered", args=["navab", fmt]) + "?nation=us&mode=quoted"

    response = client.get(url)

    assert response.status_code == 200
    assert response.streaming
    records = parse(fmt, body(response))
    assert records == expected_records(
        Item.objects.filter(release=release).in_slice("nation", "us").in_slice("mode", "quoted")
    )
    assert len(records) == 2


def test_filtered_downloads_apply_search_topic_and_language(client: Client, release):
    url = reverse("download-filtered", args=["navab", "jsonl"])

    searched = parse("jsonl", body(client.get(url + "?q=reciprocal")))
    topical = parse("jsonl", body(client.get(url + "?topic=Healthcare")))
    chinese = parse("jsonl", body(client.get(url + "?language=zh")))

    assert [r["nation"] + "/" + r["mode"] for r in searched] == ["us/official"]
    assert len(topical) == 2
    assert [r["nation"] for r in chinese] == ["cn"]


def test_filtered_downloads_default_to_the_current_published_release(
    client: Client, release, draft
):
    records = parse(
        "jsonl", body(client.get(reverse("download-filtered", args=["navab", "jsonl"])))
    )

    assert {r["release"] for r in records} == {"v1"}
    assert len(records) == 12


def test_an_empty_filter_still_gives_valid_files(client: Client, release):
    url = reverse("download-filtered", args=["navab", "parquet"]) + "?topic=no-such-topic"

    table = pq.read_table(io.BytesIO(body(client.get(url))))

    assert table.num_rows == 0
    assert table.column_names == list(RECORD_FIELDS)


def test_an_invalid_filter_is_a_bad_request(client: Client, release):
    response = client.get(reverse("download-filtered", args=["navab", "csv"]) + "?release=nope")

    assert response.status_code == 400
    assert "release" in response.content.decode()


def test_without_a_published_release_there_is_nothing_to_download(client: Client, draft):
    assert client.get(reverse("download-filtered", args=["navab", "csv"])).status_code == 404


# --- the harness directory ----------------------------------------------------------------


def test_release_directory_holds_the_release_for_the_harness(release):
    directory = release_directory(release)

    records = [r.to_dict() for r in iter_triples(directory)]
    assert records == expected_records(Item.objects.filter(release=release))
    manifest = load_manifest(directory)
    assert manifest["version"] == "v1"
    assert manifest["total"] == 12
    assert release_directory(release) == directory


def test_release_directory_follows_a_replaced_draft(draft, tmp_path: Path):
    first = release_directory(draft)
    root = write_navab(
        tmp_path / "draft",
        {"UK/human_statement_result.json": [navab_record(41), navab_record(42)]},
    )
    import_release(root, version=draft.version)

    second = release_directory(DatasetRelease.objects.get(pk=draft.pk))

    assert second != first
    assert not first.exists()
    assert load_manifest(second)["total"] == 2


def test_navabs_harness_triples_are_the_bytes_of_the_jsonl_download(release):
    # Stock lm-eval reproduction reads either file: they must not drift apart.
    directory = release_directory(release)

    assert (directory / "triples.jsonl").read_bytes() == release_file(
        release, "jsonl"
    ).path.read_bytes()
    manifest = load_manifest(directory)
    assert manifest["benchmark"] == "navab"
    assert manifest["counts"]["us/quoted"] > 0
    assert manifest["slices"]["nation"][0] == "cn"
    assert manifest["slices"]["mode"] == ["quoted", "official", "source"]
