"""CRM: a demo module with contacts, opportunities and meetings, and tasks that nudge people."""
