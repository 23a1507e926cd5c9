"""The scheduler's exception family."""


class SchedulerError(Exception):
    """Base class of every error raised by scheduler_app."""


class RegistryError(SchedulerError):
    """A provider or task type could not be registered or found."""


class AlreadyRegistered(RegistryError):
    """A provider with the same module id is already registered."""


class NotRegistered(RegistryError):
    """No provider or task type is registered under that key."""


class InvalidTransition(SchedulerError):
    """A task status change that the lifecycle does not allow."""
