"""The demo support desk: created once, with its logins able to open the console, providers
apart, shifts covering the day with staggered breaks, and a history to look at."""

from datetime import time

import pytest
from django.test import Client
from django.urls import reverse

from consulto.demo.support_desk import SUPPORT_LOGINS, ensure_support_desk
from consulto.support.models import Agent, Contact, Shift, Team
from tests.practice.conftest import practice  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_desk_is_created_once_and_its_logins_open_the_console(practice):  # noqa: F811
    assert ensure_support_desk(seed=1) is True
    assert ensure_support_desk(seed=1) is False
    assert Team.objects.filter(provider__isnull=False).values("provider").distinct().count() == 2
    for login in SUPPORT_LOGINS:
        agent = Agent.objects.get(user__email=login.email)
        client = Client()
        client.force_login(agent.user)
        assert client.get(reverse("support:console")).status_code == 200, login.email
    assert Contact.objects.filter(status="done").count() == 160
    assert Contact.objects.filter(status__in=["waiting", "offered"]).count() == 2


def test_somebody_is_on_duty_every_half_hour_of_a_weekday(practice):  # noqa: F811
    ensure_support_desk(seed=1)
    for half_hour in range(16, 40):  # 8:00 to 20:00
        moment = time(half_hour // 2, 30 * (half_hour % 2))
        working = [
            s
            for s in Shift.objects.filter(weekday=2)
            if s.start <= moment < s.end
            and not (
                s.break_start
                and s.break_start.hour * 60 + s.break_start.minute
                <= moment.hour * 60 + moment.minute
                < s.break_start.hour * 60 + s.break_start.minute + s.break_minutes
            )
        ]
        assert len(working) >= 5, moment
