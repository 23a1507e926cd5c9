"""The run texts' secret masking, for the API's serializers (kept in :mod:`scheduler_app.services.scrubbing`)."""

from scheduler_app.policy.scrubbing import MAX_DEPTH, MIN_SECRET_LENGTH, scrub, secret_values

__all__ = ["MAX_DEPTH", "MIN_SECRET_LENGTH", "scrub", "secret_values"]
