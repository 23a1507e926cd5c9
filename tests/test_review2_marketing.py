"""Probes of the marketing demo: file channel names, click links, the dashboard's escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import signing
from django.core.exceptions import ValidationError

from project.marketing.adapters import FileAdapter, PublishError
from project.marketing.models import Channel, ChannelKind, Post, PostStatus
from project.marketing.sending import CLICK_SALT, record_click


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.MARKETING_OUTBOX_DIR = str(tmp_path / "outbox")
    return tmp_path / "outbox"


# Names the model refuses; an edited row must be refused by the adapter too, with no
# file written anywhere and no retry (trying again cannot help).
BAD_NAMES = [
    "..",
    ".",
    "../up.jsonl",
    "/etc/passwd",
    "a\x00b",
    "social.jsonl\n",
    "sub/x.jsonl",
    "x" * 101,
    ".hidden",
    "a b",
]


@pytest.mark.parametrize("target", BAD_NAMES)
def test_a_bad_file_name_is_a_field_error(db, target):
    with pytest.raises(ValidationError) as caught:
        Channel(name="x", kind=ChannelKind.FILE, target=target).full_clean()
    assert "target" in caught.value.message_dict


@pytest.mark.parametrize("target", BAD_NAMES)
def test_the_file_adapter_refuses_a_bad_name_for_good(db, outbox, tmp_path, target):
    channel = Channel.objects.create(name="Edited", kind=ChannelKind.FILE, target="ok.jsonl")
    Channel.objects.filter(pk=channel.pk).update(target=target)
    channel.refresh_from_db()
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(PublishError) as caught:
        FileAdapter().publish(channel, post)
    assert caught.value.retry is False
    assert sorted(p for p in tmp_path.rglob("*") if p != outbox) == [
        p for p in before if p != outbox
    ]


def test_a_good_file_name_is_written(db, outbox):
    channel = Channel.objects.create(name="Good", kind=ChannelKind.FILE, target="a-b_c.1.jsonl")
    channel.full_clean()
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    assert FileAdapter().publish(channel, post).startswith("a-b_c.1.jsonl@")
    assert Path(outbox / "a-b_c.1.jsonl").read_text().count("\n") == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "1:abc",
        signing.dumps(1, salt="another salt"),
        signing.dumps(1, salt=CLICK_SALT) + "x",
        signing.dumps(1, salt=CLICK_SALT)[:-1],
    ],
)
def test_a_forged_or_odd_click_token_is_unknown(db, token):
    import datetime as dt

    assert record_click(token, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) is None


def test_a_click_view_with_odd_tokens_is_404(client, db):
    for token in ("abc", signing.dumps(1, salt="another salt"), "%00", "a" * 201):
        assert client.get(f"/marketing/ab/{token}/").status_code == 404
