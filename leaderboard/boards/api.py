"""Leaderboard API (being completed: board rows with the page's filters)."""

from __future__ import annotations

from rest_framework import viewsets

from leaderboard.evals.api import ScoreSerializer
from leaderboard.evals.models import Score


class LeaderboardViewSet(viewsets.ReadOnlyModelViewSet[Score]):
    queryset = Score.objects.select_related("nation", "mode")
    serializer_class = ScoreSerializer
