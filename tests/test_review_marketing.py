"""Review probe: a user outside marketing who guesses a post's id learns nothing of it."""

from __future__ import annotations

from project.marketing.models import Channel, ChannelKind, Post, PostStatus


def test_sending_a_post_for_review_is_a_404_to_users_outside_marketing(client, make_user):
    channel = Channel.objects.create(name="Feed", kind=ChannelKind.CONSOLE)
    post = Post.objects.create(title="Launch", text="Soon.", channel=channel)
    client.force_login(make_user("scheduler_app.SA_SCHEDULER", username="outsider"))
    existing = client.post(f"/marketing/posts/{post.pk}/review/")
    missing = client.post(f"/marketing/posts/{post.pk + 1000}/review/")
    assert existing.status_code == missing.status_code == 404
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
