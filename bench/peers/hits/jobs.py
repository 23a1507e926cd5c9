"""The one body every peer runs: commit one row through the ORM (autocommit: its own commit)."""

import os


def insert_hit(job: int) -> None:
    from bench.peers.hits.models import Hit

    Hit.objects.create(job=job, pid=os.getpid())
