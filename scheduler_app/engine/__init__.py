"""The execution engine: claiming with leases, locks, workers, outcomes, the pass and the loop.

Entry points: :func:`scheduler_app.engine.passes.run_pass` (one pass, for
crontab) and :class:`scheduler_app.engine.loop.SchedulerLoop` (daemon).
"""
