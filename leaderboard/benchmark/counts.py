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

    @property
    def unevaluated_modes(self) -> list[Mode]:
        return [mode for mode in self.modes if not mode.is_evaluated]


def count_table(release: DatasetRelease) -> CountTable:
    """Every nation and evaluated mode appears, so an empty cell shows as 0 instead of
    vanishing; a mode that is not evaluated (German `source`) only where the release has it."""
    nations = list(Nation.objects.all())
    grouped = (
        Triple.objects.filter(release=release)
        .order_by()  # the default ordering would add its columns to the GROUP BY
        .values("nation_id", "mode_id")
        .annotate(n=Count("id"))
    )
    counts = {(row["nation_id"], row["mode_id"]): row["n"] for row in grouped}
    held = {mode_id for _, mode_id in counts}
    modes = [m for m in Mode.objects.all() if m.is_evaluated or m.pk in held]
    rows = []
    for nation in nations:
        cells = [CountCell(mode, counts.get((nation.pk, mode.pk), 0)) for mode in modes]
        rows.append(CountRow(nation, cells, sum(cell.n for cell in cells)))
    mode_totals = [
        CountCell(mode, sum(row.cells[i].n for row in rows)) for i, mode in enumerate(modes)
    ]
    return CountTable(modes, rows, mode_totals, sum(row.total for row in rows))
