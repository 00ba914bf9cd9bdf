"""What one visitor may hold and book: rates per account, patient identity and address (429 with
Retry-After: JSON on the API, a French page on the site), and holds kept at once."""

import json
import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from consulto.api.models import ApiToken
from consulto.scheduling import booking, limits
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def api_book(client, token, world, hour, minute=0, *, first="Alice", address="198.51.100.7"):
    body = {
        "agenda": world.agenda.pk,
        "motive": world.follow_up.pk,
        "start": at(world.monday, hour, minute).isoformat(),
        "patient": {"first_name": first, "last_name": "Durand", "birth_date": "1980-05-17"},
    }
    return client.post(
        "/api/v1/appointments",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        REMOTE_ADDR=address,
    )


def hold(client, world, hour, minute=0, *, address="198.51.100.7"):
    return client.post(
        "/reserver/",
        {"agenda": world.agenda.pk, "motive": world.follow_up.pk,
         "start": at(world.monday, hour, minute).isoformat()},
        REMOTE_ADDR=address,
    )  # fmt: skip


def assert_json_429(response):
    assert response.status_code == 429, response.content
    assert response.json()["error"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 3600


# The API -----------------------------------------------------------------------------------------


def test_an_account_booking_too_often_through_the_api_gets_429(client, world, user, settings):
    settings.CONSULTO_BOOKING_LIMITS = {"account": "3/h"}
    _t, token = ApiToken.issue(user)
    statuses = [
        api_book(client, token, world, 9, 15 * i, first=f"P{i}").status_code for i in range(3)
    ]
    assert statuses == [201, 201, 201]
    refused = api_book(client, token, world, 10, first="Quatre")
    assert_json_429(refused)
    assert Appointment.objects.count() == 3


def test_one_patient_booked_from_many_accounts_gets_429(client, world, user, other_user, settings):
    settings.CONSULTO_BOOKING_LIMITS = {"patient": "2/h"}
    tokens = [ApiToken.issue(u)[1] for u in (user, other_user)]
    assert api_book(client, tokens[0], world, 9).status_code == 201
    assert api_book(client, tokens[1], world, 9, 15).status_code == 201
    # The same person, whatever the case and spacing of the name.
    assert_json_429(api_book(client, tokens[0], world, 9, 30, first=" ALICE "))
    assert api_book(client, tokens[0], world, 9, 30, first="Bob").status_code == 201


def test_one_address_booking_for_many_accounts_gets_429(client, world, user, other_user, settings):
    settings.CONSULTO_BOOKING_LIMITS = {"address": "2/h"}
    tokens = [ApiToken.issue(u)[1] for u in (user, other_user)]
    assert api_book(client, tokens[0], world, 9, first="A").status_code == 201
    assert api_book(client, tokens[1], world, 9, 15, first="B").status_code == 201
    assert_json_429(api_book(client, tokens[1], world, 9, 30, first="C"))
    other_address = api_book(client, tokens[1], world, 9, 30, first="C", address="203.0.113.9")
    assert other_address.status_code == 201


def test_ipv6_addresses_of_one_subscriber_count_together(client, world, user, settings):
    settings.CONSULTO_BOOKING_LIMITS = {"address": "1/h"}
    _t, token = ApiToken.issue(user)
    assert api_book(client, token, world, 9, address="2001:db8:1:2::1").status_code == 201
    assert_json_429(api_book(client, token, world, 9, 15, address="2001:db8:1:2:ffff::9"))


def test_the_default_limits_leave_a_family_room_and_stop_a_script(client, world, user):
    _t, token = ApiToken.issue(user)
    answers = [
        api_book(client, token, world, 9 + i // 4, 15 * (i % 4), first=f"E{i}") for i in range(12)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [201] * 5
    assert 429 in statuses


# The patient pages -------------------------------------------------------------------------------


def test_people_behind_one_address_each_hold_up_to_its_ceiling(world, settings):
    """A mobile operator puts many phones behind one public address: each holds its slot; a
    script dropping its cookies (a new session each time) stops at the address's ceiling."""
    settings.CONSULTO_HOLDS_AT_ONCE = 2
    settings.CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS = 3
    statuses = [hold(Client(), world, hour).status_code for hour in (9, 10, 11)]
    assert statuses == [302, 302, 302]
    refused = hold(Client(), world, 14)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Vous retenez déjà autant de créneaux" in page
    wait = int(refused["Retry-After"])
    assert 0 < wait <= settings.CONSULTO_HOLD_MINUTES * 60
    assert Appointment.objects.filter(status=Appointment.Status.HELD).count() == 3
    # Another address is other visitors.
    assert hold(Client(), world, 14, address="203.0.113.9").status_code == 302


def test_one_anonymous_session_keeps_at_most_its_cap(world, settings):
    settings.CONSULTO_HOLDS_AT_ONCE = 2
    visitor = limits.Visitor(account_id=None, address="one-address", session="one-session")
    for hour in (9, 10):
        booking.hold(agenda=world.agenda, motive=world.follow_up, start=at(world.monday, hour),
                     held_by=None, visitor=visitor)  # fmt: skip
    with pytest.raises(limits.TooManyHolds):
        booking.hold(agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 11),
                     held_by=None, visitor=visitor)  # fmt: skip
    neighbour = limits.Visitor(account_id=None, address="one-address", session="another")
    booking.hold(agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 11),
                 held_by=None, visitor=neighbour)  # fmt: skip


def test_a_visitor_choosing_slot_after_slot_keeps_one_hold(client, world):
    for hour in (9, 10, 11, 14):
        assert hold(client, world, hour).status_code == 302
    assert Appointment.objects.filter(status=Appointment.Status.HELD).count() == 1


def test_an_account_keeps_at_most_two_holds_across_browsers(world, user, settings):
    settings.CONSULTO_HOLDS_AT_ONCE = 2
    browsers = [Client() for _ in range(3)]
    for browser in browsers:
        browser.force_login(user)
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    statuses = [
        hold(b, world, 9 + i, address=a).status_code
        for i, (b, a) in enumerate(zip(browsers, addresses, strict=True))
    ]
    assert statuses == [302, 302, 429]


def test_holding_too_often_from_one_address_answers_a_french_page(world, settings):
    settings.CONSULTO_HOLD_LIMITS = {"address": "3/10m"}
    browser = Client()
    statuses = [hold(browser, world, 9, 15 * i).status_code for i in range(4)]
    assert statuses == [302, 302, 302, 429]
    refused = hold(browser, world, 11)
    assert refused.status_code == 429
    assert "Vous avez fait beaucoup de demandes" in refused.content.decode()
    assert "Vous pourrez réessayer dans" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 600


def test_confirming_too_many_bookings_answers_429_on_the_site(client, world, user, settings):
    settings.CONSULTO_BOOKING_LIMITS = {"account": "1/h"}
    me = PatientProfile.objects.create(
        owner=user, first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
    client.force_login(user)
    for hour, expected in ((9, 302), (10, 429)):
        held = hold(client, world, hour)
        response = client.post(held.url, {"patient": str(me.pk), "idempotency_key": str(hour)})
        assert response.status_code == expected
    assert "Retry-After" in response
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1


def test_the_waiting_list_is_not_bound_by_a_visitors_cap(world, user, settings):
    """The waiting list holds a freed slot for its patient whatever holds they keep."""
    settings.CONSULTO_HOLDS_AT_ONCE = 1
    visitor = limits.Visitor(account_id=user.pk, address="x")
    booking.hold(agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 9),
                 held_by=user, visitor=visitor)  # fmt: skip
    offered = booking.hold(
        agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 10), held_by=user
    )
    assert offered.status == Appointment.Status.HELD


# Concurrency and processes -----------------------------------------------------------------------


def other_agendas(world, n):
    made = []
    for i in range(n):
        agenda = Agenda.objects.create(
            organisation=world.organisation, site=world.site, name=f"A{i}"
        )
        motive = Motive.objects.create(agenda=agenda, label="Consultation", duration_minutes=15)
        opening = Opening.objects.create(
            agenda=agenda, site=world.site, weekday=world.monday.weekday(),
            start_time=at(world.monday, 9).time(), end_time=at(world.monday, 12).time(),
            valid_from=world.monday - timedelta(days=7),
        )  # fmt: skip
        opening.motives.set([motive])
        made.append((agenda, motive))
    return made


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_when_one_visitor_holds_on_many_agendas_at_once(world, settings):
    """Eight threads, one anonymous visitor, eight agendas: the cap counts under concurrency."""
    settings.CONSULTO_HOLDS_AT_ONCE = 2
    pairs = other_agendas(world, 8)
    visitor = limits.Visitor(account_id=None, address="one-visitor", session="one-session")
    outcomes, gate = [], threading.Barrier(len(pairs))

    def take(agenda, motive):
        gate.wait()
        try:
            booking.hold(agenda=agenda, motive=motive, start=at(world.monday, 9), held_by=None,
                         visitor=visitor)  # fmt: skip
            outcomes.append("held")
        except (limits.TooManyHolds, booking.SlotTaken) as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = Appointment.objects.filter(status=Appointment.Status.HELD, held_from="one-visitor")
    assert held.count() <= 2
    assert outcomes.count("held") == held.count() >= 1


@pytest.mark.real_clock  # the other process counts in the windows of the real clock
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs REDIS_URL: the embedded cache lives in one process, as the embedded server",
)
def test_every_process_counts_into_the_same_limit(settings):
    """Another process (another worker) counts bookings; this one sees the limit reached."""
    settings.CONSULTO_BOOKING_LIMITS = {"account": "3/h"}
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "settings.CONSULTO_BOOKING_LIMITS = {'account': '3/h'}\n"
        "from consulto.scheduling import limits\n"
        "visitor = limits.Visitor(account_id=424242, address='a')\n"
        "for _ in range(3): limits.count_booking(visitor, identity=None)\n"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=60)
    with pytest.raises(limits.TooManyRequests):
        limits.count_booking(limits.Visitor(account_id=424242, address="b"), identity=None)
