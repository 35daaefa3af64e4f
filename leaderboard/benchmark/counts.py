"""Triple counts of a release per nation x mode, in one grouped query whatever its size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple


@dataclass(frozen=True)
class CountCell:
    mode: Mode
    n: int


@dataclass(frozen=True)
class CountRow:
    nation: Nation
    cells: list[CountCell]
    total: int


@dataclass(frozen=True)
class CountTable:
    modes: list[Mode]
    rows: list[CountRow]
    mode_totals: list[CountCell]
    total: int


def count_table(release: DatasetRelease) -> CountTable:
    """Every nation and mode appears, so an empty cell shows as 0 instead of vanishing."""
    nations = list(Nation.objects.all())
    modes = list(Mode.objects.all())
    grouped = (
        Triple.objects.filter(release=release)
        .order_by()  # the default ordering would add its columns to the GROUP BY
        .values("nation_id", "mode_id")
        .annotate(n=Count("id"))
    )
    counts = {(row["nation_id"], row["mode_id"]): row["n"] for row in grouped}
    rows = []
    for nation in nations:
        cells = [CountCell(mode, counts.get((nation.pk, mode.pk), 0)) for mode in modes]
        rows.append(CountRow(nation, cells, sum(cell.n for cell in cells)))
    mode_totals = [
        CountCell(mode, sum(row.cells[i].n for row in rows)) for i, mode in enumerate(modes)
    ]
    return CountTable(modes, rows, mode_totals, sum(row.total for row in rows))
