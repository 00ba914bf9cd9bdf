"""Hospitals and centres for patients: the establishment's page lists its departments
("services") and what each lets patients book online; a department's page shows its agendas,
their next availabilities and, for a chosen motive, its week of slots (booked through the same
hold and confirmation pages as a practitioner's)."""

from datetime import timedelta

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from consulto.core import conditional
from consulto.core.inputs import parse_id, query_date
from consulto.scheduling import visibility

from .. import selectors
from ..forms import WaitlistForm
from .search import WEEK_VARY, week_tag


def slug_of(organisation) -> str:
    return slugify(organisation.name) or "etablissement"


def establishment_url(organisation) -> str:
    return reverse("establishment", args=[organisation.pk, slug_of(organisation)])


def department_url(department, *, motive=None, week=None) -> str:
    organisation = department.organisation
    url = reverse("department", args=[organisation.pk, slug_of(organisation), department.pk])
    if motive is None:
        return url
    params = {"agenda": motive.agenda_id, "motive": motive.pk}
    if week:
        params["week"] = week.isoformat()
    return f"{url}?{urlencode(params)}#slots"


def _found(pk: int, slug: str):
    organisation = selectors.establishment(pk)
    if organisation is None or slug != slug_of(organisation):
        raise Http404
    return organisation


@require_GET
def establishment(request, pk: int, slug: str):
    organisation = _found(pk, slug)
    return render(
        request,
        "patients/establishment.html",
        {
            "organisation": organisation,
            "departments": organisation.shown_departments,
            "slug": slug,
        },
    )


@require_GET
def department(request, pk: int, slug: str, department_id: int):
    organisation = _found(pk, slug)
    chosen = next((d for d in organisation.shown_departments if d.pk == department_id), None)
    if chosen is None:
        raise Http404
    chosen.organisation = organisation
    agendas = [a for a in chosen.bookable_agendas if a.online_motives]
    agenda = next((a for a in agendas if a.pk == parse_id(request.GET.get("agenda"))), None)
    motive = None
    if agenda is not None:
        motive = next(
            (m for m in agenda.online_motives if m.pk == parse_id(request.GET.get("motive"))),
            None,
        )
    week = waitlist_form = tag = None
    fragment = request.headers.get("HX-Target") == "week"
    if motive is not None:
        motive.agenda = agenda
        now = timezone.now()
        chosen_week = query_date(request.GET, "week")
        if fragment:  # the week changed: a 304 when its slots did not
            tag = week_tag(
                request, motive=motive, week=chosen_week, now=now, audience=visibility.PUBLIC
            )
            if conditional.matches(request, tag):
                return conditional.not_modified(tag, private=True, vary=WEEK_VARY)
        week = selectors.week_of_slots(motive=motive, week=chosen_week, now=now)
        if request.user.is_authenticated:
            waitlist_form = WaitlistForm(
                profiles=selectors.profiles_of(request.user),
                initial={"before": timezone.localdate() + timedelta(days=14)},
            )
    context = {
        "organisation": organisation,
        "department": chosen,
        "slug": slug,
        "agendas": agendas,
        "agenda": agenda,
        "motive": motive,
        "week": week,
        "waitlist_form": waitlist_form,
    }
    if fragment and week is not None:
        response = render(request, "patients/_week.html", context)
        return conditional.validated(response, tag, private=True, vary=WEEK_VARY)
    firsts = selectors.next_availabilities(agendas)
    for a in agendas:
        for m in a.online_motives:
            m.first_slot = firsts.get(m.pk)
    return render(request, "patients/department.html", context)
