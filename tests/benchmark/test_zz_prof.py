import time
import pytest
from django.test import Client
from django.urls import reverse
from leaderboard.benchmark.models import DatasetRelease
from tests.benchmark.test_export_memory import insert_triples, rss_growth_while_streaming

@pytest.mark.django_db
def test_prof(client):
    t=time.time()
    for version, count in (("small", 20000), ("big", 200000)):
        release = DatasetRelease.objects.create(version=version, title=version)
        insert_triples(release, count)
        release.publish()
    print("insert", time.time()-t)
    for fmt in ["jsonl","csv","parquet"]:
        t=time.time()
        g, b = rss_growth_while_streaming(client, reverse("download-filtered", args=[fmt]) + "?release=big")
        print(fmt, time.time()-t, g/2**20, b/2**20)
