"""`import_release --benchmark navab` under NaVAB's own name: its published folder layout (US/,
UK/, China/, german/, french/), a release directory holding triples.jsonl, or that file."""

from __future__ import annotations

from leaderboard.catalog.management.commands import import_release


class Command(import_release.Command):
    help = (
        "Import PATH as a NaVAB release: a NaVAB folder (US/, UK/, China/, german/, french/ "
        "holding human_statement_result.json and official_statement_result.json), a release "
        "directory holding triples.jsonl, or a triples.jsonl file. Nothing is written unless "
        "every record is valid; importing the same content again changes nothing."
    )
    benchmark = "navab"
