"""Reports: a demo module offering report generation, e-mail and export tasks."""
