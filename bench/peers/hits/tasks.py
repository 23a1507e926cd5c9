"""procrastinate's task (its Django contrib imports each app's ``tasks`` module)."""

from procrastinate.contrib.django import app

from bench.peers.hits import jobs


@app.task(name="insert_hit")
def insert_hit(job: int) -> None:
    jobs.insert_hit(job)
