"""Todo: a demo module with todos and team goals, and tasks that remind, alert and escalate."""
