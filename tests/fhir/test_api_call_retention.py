"""The record of partners' calls is kept CONSULTO_API_CALL_RETENTION_DAYS, then purged by a daily
task of the worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consulto.fhir.models import ApiCall
from consulto.fhir.retention import purge_api_calls

pytestmark = pytest.mark.django_db


def _call(partner, age: timedelta) -> ApiCall:
    return ApiCall.objects.create(
        at=timezone.now() - age, partner=partner, method="GET", path="/fhir/r4/Slot",
        status=200, duration_ms=4,
    )  # fmt: skip


def test_calls_older_than_the_retention_are_purged(partners, settings, monkeypatch):
    from consulto.fhir import retention

    settings.CONSULTO_API_CALL_RETENTION_DAYS = 90
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches
    partner = partners.own[0]
    old = [_call(partner, timedelta(days=91 + n)) for n in range(5)]
    kept = [_call(partner, timedelta(days=89)), _call(partner, timedelta(minutes=1))]
    assert purge_api_calls() == len(old)
    assert set(ApiCall.objects.values_list("pk", flat=True)) == {c.pk for c in kept}
    assert purge_api_calls() == 0


def test_the_retention_is_a_setting(partners, settings):
    settings.CONSULTO_API_CALL_RETENTION_DAYS = 7
    _call(partners.own[0], timedelta(days=8))
    _call(partners.own[0], timedelta(days=6))
    assert purge_api_calls() == 1


def test_the_purge_is_started_once_and_comes_back_every_day(db):
    from django_tasks_db.models import DBTaskResult

    from consulto.fhir.tasks import ensure_api_call_purge, purge_api_calls

    ensure_api_call_purge()
    ensure_api_call_purge()  # a second server start adds no second chain
    waiting = DBTaskResult.objects.filter(task_path=purge_api_calls.module_path)
    assert waiting.filter(status="READY").count() == 1
    purge_api_calls.call()
    later = waiting.filter(status="READY").order_by("-enqueued_at").first()
    assert later.run_after >= timezone.now() + timedelta(hours=23)
