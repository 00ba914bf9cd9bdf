"""Workers that run the same delivery at the same instant send the message once."""

import pytest

from consulto.notifications import services
from consulto.notifications.models import Message
from tests.scheduling.test_concurrency import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_concurrent_deliveries_of_one_message_send_it_once(sms_outbox):
    message = services.queue_message(
        channel="sms",
        purpose="other",
        recipient="+33612345678",
        body="Bonjour",
        dedupe_key="test:race",
    )
    results = race(8, lambda _i: services.send_message(message_id=message.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert Message.objects.count() == 1
