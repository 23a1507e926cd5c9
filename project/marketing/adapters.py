"""Channel adapters: how a post reaches its channel.

Each adapter's ``publish(channel, post)`` returns a short reference (what the
channel answered) or raises :class:`PublishError`, saying whether trying again
later can help. The demo uses the console and file adapters; a real network is
an HTTP endpoint, reached through scheduler_app's HTTP task type client (the
outbound guard, redirects, secret headers kept to the endpoint's origin).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from project.marketing.models import Channel, ChannelKind, Post, is_file_name, is_token


class PublishError(Exception):
    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Adapter(Protocol):
    def publish(self, channel: Channel, post: Post) -> str: ...


def post_document(post: Post) -> dict[str, Any]:
    """What every adapter sends: the post as JSON."""
    return {
        "post": post.pk,
        "title": post.title,
        "text": post.text,
        "channel": post.channel.name,
        "published_at": timezone.now().isoformat(),
    }


class ConsoleAdapter:
    """Print the post (the run's captured output shows it)."""

    def publish(self, channel: Channel, post: Post) -> str:
        sys.stdout.write(f"[{channel.name}] {post.title}\n{post.text}\n")
        sys.stdout.flush()
        return "console"


def outbox_dir() -> Path:
    """Where the file adapter writes: ``settings.MARKETING_OUTBOX_DIR``."""
    return Path(getattr(settings, "MARKETING_OUTBOX_DIR", Path("var") / "marketing"))


class FileAdapter:
    """Append the post as one JSON line to ``<MARKETING_OUTBOX_DIR>/<target>``."""

    def publish(self, channel: Channel, post: Post) -> str:
        folder = outbox_dir()
        # Channel.clean() allows a bare file name only; checked again, as rows can be edited.
        if not is_file_name(channel.target):
            raise PublishError(f"Channel {channel.name!r} names no file.", retry=False)
        path = folder / channel.target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(post_document(post), ensure_ascii=False) + "\n")
                line = out.tell()
        except OSError as exc:
            raise PublishError(f"Could not write {path}: {exc.strerror}", retry=True) from exc
        return f"{channel.target}@{line}"


class HttpAdapter:
    """POST the post as JSON to the channel's URL with its token, through the HTTP task type."""

    def publish(self, channel: Channel, post: Post) -> str:
        from scheduler_app.contrib.http import client

        # Channel.clean() allows one word only; checked again, as rows can be edited.
        if channel.auth_token and not is_token(channel.auth_token):
            raise PublishError(f"Channel {channel.name!r} has a malformed token.", retry=False)
        config = {
            "method": "POST",
            "url": channel.target,
            "headers": "Content-Type: application/json",
            "secret_headers": f"Authorization: Bearer {channel.auth_token}"
            if channel.auth_token
            else "",
            "body": json.dumps(post_document(post), ensure_ascii=False),
            "expected_status": "200-299",
            "timeout": 30,
        }
        result = client.send(config)
        if not result.ok:
            raise PublishError(
                result.message or "The endpoint refused the post.", retry=result.retry
            )
        data = result.data if isinstance(result.data, dict) else {}
        return f"HTTP {data.get('status', '2xx')}"


ADAPTERS: dict[str, Adapter] = {
    ChannelKind.CONSOLE: ConsoleAdapter(),
    ChannelKind.FILE: FileAdapter(),
    ChannelKind.HTTP: HttpAdapter(),
}


def adapter_for(channel: Channel) -> Adapter:
    try:
        return ADAPTERS[channel.kind]
    except KeyError:
        raise PublishError(f"No adapter for channel kind {channel.kind!r}.", retry=False) from None
