"""Watching the scheduler: heartbeat and watchdog, metrics, charts, alerts."""
