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
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    # A row edited past the model's check (PostgreSQL stores no NUL: set it in memory).
    channel.target = target
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


# Built when the test runs, not at collection: a signed token carries the time, and the
# parallel workers must collect the same test ids.
ODD_TOKENS = {
    "empty": lambda: "",
    "one-character": lambda: "x",
    "unsigned": lambda: "1:abc",
    "other-salt": lambda: signing.dumps(1, salt="another salt"),
    "appended": lambda: signing.dumps(1, salt=CLICK_SALT) + "x",
    "cut": lambda: signing.dumps(1, salt=CLICK_SALT)[:-1],
}


@pytest.mark.parametrize("kind", list(ODD_TOKENS))
def test_a_forged_or_odd_click_token_is_unknown(db, kind):
    import datetime as dt

    assert record_click(ODD_TOKENS[kind](), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) is None


def test_a_click_view_with_odd_tokens_is_404(client, db):
    for token in ("abc", signing.dumps(1, salt="another salt"), "%00", "a" * 201):
        assert client.get(f"/marketing/ab/{token}/").status_code == 404


# --- the dashboard, the admin, the HTTP adapter ---------------------------------------------

MARKETER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_MARKETING")
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_in_posts_is_escaped_on_the_dashboard(client, make_user, db):
    user = make_user(*MARKETER)
    channel = Channel.objects.create(name=EVIL[:90], kind=ChannelKind.CONSOLE)
    Post.objects.create(channel=channel, status=PostStatus.DRAFT, title=EVIL, text=EVIL)
    Post.objects.create(
        channel=channel, status=PostStatus.REJECTED, title="t2", text="x", review_comment=EVIL
    )
    client.force_login(user)
    html = client.get("/marketing/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_the_dashboard_is_refused_to_a_user_without_the_module(client, make_user, db):
    client.force_login(make_user("scheduler_app.SA_SCHEDULER"))
    assert client.get("/marketing/").status_code == 403


@pytest.mark.parametrize("pk", ["999999", str(2**70)])
def test_sending_an_unknown_post_for_review_is_404(client, make_user, db, pk):
    client.force_login(make_user(*MARKETER))
    assert client.post(f"/marketing/posts/{pk}/review/").status_code == 404


def test_an_oversized_post_text_is_a_field_error_in_the_admin(admin_client, db):
    from project.marketing.models import POST_TEXT_MAX

    channel = Channel.objects.create(name="Console", kind=ChannelKind.CONSOLE)
    response = admin_client.post(
        "/admin/marketing/post/add/",
        {"title": "Big", "text": "x" * (POST_TEXT_MAX + 1), "channel": channel.pk},
    )
    assert response.status_code == 200
    assert not Post.objects.filter(title="Big").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/posts",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/posts",
        "http://0.0.0.0/posts",
        "http://127.1/posts",
        "http://[::ffff:127.0.0.1]/posts",
        "http://2130706433/posts",
    ],
)
def test_the_http_adapter_refuses_private_addresses(db, url):
    from project.marketing.adapters import HttpAdapter

    channel = Channel.objects.create(name="Net", kind=ChannelKind.HTTP, target=url)
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    with pytest.raises(PublishError) as caught:
        HttpAdapter().publish(channel, post)
    assert "refused" in str(caught.value).lower() or "not allowed" in str(caught.value).lower()


def test_a_click_link_expires_and_a_valid_one_counts_once(client, db):
    import datetime as dt

    import time_machine

    from project.marketing.models import ABRecipient, ABTest, Subscriber
    from project.marketing.sending import click_token

    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    test = ABTest.objects.create(
        name="T",
        subject_a="a",
        body_a="{link}",
        subject_b="b",
        body_b="{link}",
        landing_url="https://shop.example/sale",
        test_share=40,
        split_a=50,
        decide_after_hours=24,
    )
    person = Subscriber.objects.create(email="p@example.com", name="P")
    recipient = ABRecipient.objects.create(test=test, subscriber=person, variant="a", in_test=True)
    with time_machine.travel(start, tick=False):
        token = click_token(recipient)
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        assert client.get(f"/marketing/ab/{token}/").status_code == 302
        assert client.get(f"/marketing/ab/{token}/").status_code == 302
    recipient.refresh_from_db()
    assert recipient.clicked_at == start + dt.timedelta(days=1)  # the first click only
    with time_machine.travel(start + dt.timedelta(days=91), tick=False):
        assert client.get(f"/marketing/ab/{token}/").status_code == 404
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/marketing/ab/{tampered}/").status_code == 404


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://example.com/x", "", "not a url", "http://", "x" * 3000]
)
def test_an_edited_http_channel_with_a_bad_url_fails_for_good(db, target):
    from project.marketing.adapters import HttpAdapter

    channel = Channel.objects.create(name="Net", kind=ChannelKind.HTTP, target="https://a.example/")
    Channel.objects.filter(pk=channel.pk).update(target=target[:500])
    channel.refresh_from_db()
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    with pytest.raises(PublishError) as caught:
        HttpAdapter().publish(channel, post)
    assert caught.value.retry is False


@pytest.mark.parametrize(
    "token", ["abc\nX-Extra: 1", "abc\r\nHost: evil", "abc def", "tök", "a\x00"]
)
def test_a_token_that_is_not_one_word_is_refused_and_never_sent(db, token):
    from project.marketing.adapters import HttpAdapter

    with pytest.raises(ValidationError) as caught:
        Channel(
            name="M", kind=ChannelKind.HTTP, target="https://example.com/x", auth_token=token
        ).full_clean()
    assert "auth_token" in caught.value.message_dict
    channel = Channel.objects.create(
        name="N", kind=ChannelKind.HTTP, target="https://example.com/x", auth_token="ok"
    )
    post = Post.objects.create(channel=channel, status=PostStatus.APPROVED, title="t", text="x")
    # A row edited past the model's check (PostgreSQL stores no NUL: set it in memory).
    channel.auth_token = token
    with pytest.raises(PublishError) as refused:
        HttpAdapter().publish(channel, post)
    assert refused.value.retry is False and token not in str(refused.value)


def test_a_real_token_is_accepted(db):
    Channel(
        name="M",
        kind=ChannelKind.HTTP,
        target="https://example.com/x",
        auth_token="tok-123456_ABC.~+/=",
    ).full_clean()
