from django.apps import AppConfig


class HitsConfig(AppConfig):
    name = "bench.peers.hits"
    label = "peerhits"
    default_auto_field = "django.db.models.BigAutoField"
