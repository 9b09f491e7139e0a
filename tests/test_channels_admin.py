"""Administrators set up reminder channels in the admin, in Chinese; a saved secret is never
shown back in full, and the quiet-hours setting is read from the environment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rectify.env import SettingError, env_time_range
from tracker.models import ReminderChannel
from tracker.models.reminders import ChannelKind

ADD = reverse("admin:tracker_reminderchannel_add")


def form(**values) -> dict:
    return {"name": "", "kind": "", "unit": "", "user": "", "url": "", "secret": "", **values}


@pytest.mark.django_db
def test_an_administrator_gives_finances_group_a_dingtalk_robot_and_never_sees_its_secret_again(
    admin_client, finance
):
    # Given the add page, in Chinese
    page = admin_client.get(ADD).content.decode()
    assert "提醒渠道" in page and "签名密钥" in page and "钉钉群机器人" in page
    # When an administrator saves 财政局's 钉钉 robot with its 加签 secret
    response = admin_client.post(
        ADD,
        form(
            name="财政局钉钉群",
            kind=ChannelKind.DINGTALK,
            unit=finance.pk,
            url="https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789",
            secret="SECabcdefghijklmnop1234",
            enabled="on",
        ),
    )
    assert response.status_code == 302
    channel = ReminderChannel.objects.get()
    assert channel.secret == "SECabcdefghijklmnop1234"
    # Then neither the list nor the change page shows the secret or the access token in full
    listing = admin_client.get(reverse("admin:tracker_reminderchannel_changelist")).content
    change_url = reverse("admin:tracker_reminderchannel_change", args=[channel.pk])
    change = admin_client.get(change_url).content.decode()
    assert b"SECabcdefghijklmnop1234" not in listing and "SECabcdefghijklmnop1234" not in change
    assert b"abcdef0123456789" not in listing
    assert "••••1234".encode() in listing
    # and saving the form again with the secret left empty keeps it
    admin_client.post(
        change_url,
        form(
            name="财政局钉钉群(改名)",
            kind=ChannelKind.DINGTALK,
            unit=finance.pk,
            url=channel.url,
            enabled="on",
        ),
    )
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("财政局钉钉群(改名)", "SECabcdefghijklmnop1234")
    # while "清除签名密钥" removes it
    admin_client.post(
        change_url,
        form(
            name=channel.name,
            kind=ChannelKind.DINGTALK,
            unit=finance.pk,
            url=channel.url,
            clear_secret="on",
        ),
    )
    channel.refresh_from_db()
    assert (channel.secret, channel.enabled) == ("", False)


@pytest.mark.django_db
def test_a_channel_belongs_to_a_unit_or_a_person_not_both(admin_client, finance, alice):
    response = admin_client.post(
        ADD,
        form(
            name="两者都选",
            kind=ChannelKind.WECOM,
            unit=finance.pk,
            user=alice.pk,
            url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        ),
    )
    assert response.status_code == 200
    assert "请选择单位或人员中的一项" in response.content.decode()
    assert not ReminderChannel.objects.exists()


@pytest.mark.django_db
def test_only_superusers_reach_the_channels(client, alice):
    client.force_login(alice)
    assert client.get(reverse("admin:tracker_reminderchannel_changelist")).status_code in {
        302,
        403,
    }


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("22:00-08:00", ((22, 0), (8, 0))),
        ("12:00 - 13:30", ((12, 0), (13, 30))),
        ("off", None),
        ("08:00-08:00", None),
    ],
)
def test_quiet_hours_are_read_from_the_environment(raw, parsed):
    assert env_time_range("REMINDER_QUIET_HOURS", "22:00-08:00", {"REMINDER_QUIET_HOURS": raw}) == (
        parsed
    )


def test_quiet_hours_default_to_the_night_and_refuse_nonsense():
    assert env_time_range("REMINDER_QUIET_HOURS", "22:00-08:00", {}) == ((22, 0), (8, 0))
    with pytest.raises(SettingError, match="REMINDER_QUIET_HOURS"):
        env_time_range("REMINDER_QUIET_HOURS", "", {"REMINDER_QUIET_HOURS": "22-8"})
