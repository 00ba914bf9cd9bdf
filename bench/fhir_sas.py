"""The FHIR facade: the SAS slot search (INT_R01) as the national platform sends it.

``GET /fhir/r4/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge<now>
&start=le<now + 48 h>&schedule.actor:Practitioner.identifier=<25 IDNPS>&status=free&_count=1000``
through Django's whole stack in this process (test client, real settings and database): the
partner's OAuth2 bearer token checked, the call throttled and recorded (``ApiCall``), the slots
computed per visibility from the shared availability cache, the Bundle validated by
fhir.resources and serialised.

* ``fhir.sas_search``: 25 general practitioners, the nearest to Paris, those keeping
  regulation-only openings first, over the next 48 hours.
  - ``warm``: the slots cached by the previous request (the platform asks again and again).
    Goal: p95 <= 50 ms.
  - ``cold``: ``cache.clear()`` before each request (every agenda computed afresh).
  ``size`` says how many slots, schedules and practitioners the answer holds.

Usage: python bench/fhir_sas.py [--runs 200] [--cold-runs 30] [--hours 48] [--count 25]
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

# This script's name would shadow the ``fhir`` package (fhir.resources) for the imports below.
sys.path[:] = [p for p in sys.path if p not in (str(common.ROOT / "bench"), "")]

BENCH = "fhir.sas_search"
PARTNER = "Bench: plateforme SAS"


def chosen_practitioners(count: int) -> list[str]:
    """The RPPS of ``count`` GPs nearest to Paris with an active agenda, those keeping
    regulation-only openings first (the SAS asks for practitioners taking part in it)."""
    from consulto.directory.selectors import distance_km
    from consulto.scheduling.models import Agenda, Opening

    snp = set(
        Opening.objects.filter(visibility="snp").values_list("agenda_id", flat=True).distinct()
    )
    rows = Agenda.objects.filter(
        is_active=True,
        practitioner__is_published=True,
        practitioner__specialty__code=common.GP,
    ).values_list("pk", "practitioner__rpps", "site__latitude", "site__longitude")
    ranked = sorted(
        (pk not in snp, distance_km(*common.PARIS, lat, lon), rpps) for pk, rpps, lat, lon in rows
    )
    chosen: list[str] = []
    for _no_snp, _distance, rpps in ranked:
        if rpps not in chosen:
            chosen.append(rpps)
        if len(chosen) == count:
            break
    return chosen


def sas_token(client) -> str:
    import base64

    from consulto.fhir.models import Partner
    from consulto.fhir.partners import create_partner, revoke_partner

    for old in Partner.objects.filter(name=PARTNER, revoked_at__isnull=True):
        revoke_partner(old)
    partner, secret = create_partner(
        name=PARTNER, kind=Partner.Kind.SAS, scopes=["system/Slot.read"]
    )
    # The bench's requests must not meet the partner's rate (600 a minute by default).
    Partner.objects.filter(pk=partner.pk).update(rate_per_minute=1_000_000)
    basic = base64.b64encode(f"{partner.application.client_id}:{secret}".encode()).decode()
    answer = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    if answer.status_code != 200:
        raise SystemExit(f"/oauth/token/ answered {answer.status_code}: {answer.content[:200]}")
    return answer.json()["access_token"]


def main(argv: list[str] | None = None) -> int:
    parser = common.base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=200, help="warm requests (200)")
    parser.add_argument("--cold-runs", type=int, default=30, help="cold requests (30)")
    parser.add_argument("--hours", type=int, default=48, help="the window (48 h)")
    parser.add_argument("--count", type=int, default=25, help="practitioners (25)")
    args = parser.parse_args(argv)
    os.environ.setdefault("CONSULTO_HTTPS", "0")  # the test client speaks plain HTTP
    common.django_setup()
    common.ensure_dataset(args.practitioners, args.seed)

    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from consulto.fhir.refs import RPPS_SYSTEM, idnps

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    token = sas_token(client)
    numbers = chosen_practitioners(args.count)
    now = timezone.localtime()
    params = {
        "_include": "Slot:schedule",
        "_include:iterate": "Schedule:actor",
        "start": [
            f"ge{now.isoformat(timespec='seconds')}",
            f"le{(now + timedelta(hours=args.hours)).isoformat(timespec='seconds')}",
        ],
        "schedule.actor:Practitioner.identifier": ",".join(
            f"{RPPS_SYSTEM}|{idnps(n)}" for n in numbers
        ),
        "status": "free",
        "_count": "1000",
    }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": "application/fhir+json"}

    def search(_i: int):
        answer = client.get("/fhir/r4/Slot", params, **headers)
        if answer.status_code != 200:
            raise SystemExit(f"GET /fhir/r4/Slot answered {answer.status_code}: {answer.content}")
        return answer

    bundle = search(0).json()
    kinds: dict[str, int] = {}
    for entry in bundle.get("entry", []):
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    security: dict[str, int] = {}
    for entry in bundle.get("entry", []):
        for code in entry["resource"].get("meta", {}).get("security", []):
            security[code["code"]] = security.get(code["code"], 0) + 1
    size = (
        f"{len(numbers)} practitioners x {args.hours} h: {kinds.get('Slot', 0)} slots "
        f"({', '.join(f'{k} {v}' for k, v in sorted(security.items()))}), "
        f"{kinds.get('Schedule', 0)} schedules, {kinds.get('Practitioner', 0)} practitioners"
    )
    common.log(f"SAS search: {size}")

    warm = common.measure(search, args.runs)
    common.report(BENCH, "warm", warm, size, goal_ms=50)
    cold = common.measure(search, args.cold_runs, before=lambda i: cache.clear())
    common.report(BENCH, "cold", cold, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
