"""Optional apps that ship with scheduler_app; add the ones you want to INSTALLED_APPS."""
