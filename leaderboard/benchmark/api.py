"""Read-only API for the benchmark data (being completed: filters, serializers)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple


class NationSerializer(serializers.ModelSerializer[Nation]):
    class Meta:
        model = Nation
        fields = ["code", "name", "languages"]


class ModeSerializer(serializers.ModelSerializer[Mode]):
    class Meta:
        model = Mode
        fields = ["code", "name", "description"]


class ReleaseSerializer(serializers.ModelSerializer[DatasetRelease]):
    class Meta:
        model = DatasetRelease
        fields = ["version", "title", "status", "source", "is_demo", "manifest", "published_at"]


class TripleSerializer(serializers.ModelSerializer[Triple]):
    class Meta:
        model = Triple
        fields = ["uid", "question", "statement", "reverse_statement", "speaker", "topic"]


class NationViewSet(viewsets.ReadOnlyModelViewSet[Nation]):
    queryset = Nation.objects.all()
    serializer_class = NationSerializer


class ModeViewSet(viewsets.ReadOnlyModelViewSet[Mode]):
    queryset = Mode.objects.all()
    serializer_class = ModeSerializer


class ReleaseViewSet(viewsets.ReadOnlyModelViewSet[DatasetRelease]):
    queryset = DatasetRelease.objects.published()
    serializer_class = ReleaseSerializer


class TripleViewSet(viewsets.ReadOnlyModelViewSet[Triple]):
    queryset = Triple.objects.filter(release__status=DatasetRelease.Status.PUBLISHED)
    serializer_class = TripleSerializer
