"""A standalone Django project for the peer schedulers of bench/bench_peers.py.

It runs with the python of the peers' own virtualenv (bench/requirements-peers.txt), on a
database of its own; the harness in bench_peers.py runs in .venv and only reads and empties
its tables.
"""
