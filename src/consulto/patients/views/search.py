"""Finding a practitioner: the search page with its filters and the next slots on each card,
and a practitioner's page (place, hours, fees, motives, availability week by week)."""

from bisect import bisect_left
from datetime import date, datetime, time, timedelta

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consulto.core import conditional
from consulto.core.inputs import parse_id, query_date
from consulto.directory.folding import fold
from consulto.directory.selectors import resolve_place, specialty_labels
from consulto.scheduling.search import search_practitioners

from .. import selectors
from ..forms import SearchForm, WaitlistForm

PAGE_SIZE = 20


DAYS_SHOWN = 5


SLOTS_PER_DAY = 4


RADIUS_KM = 25


# The week of slots answers htmx under the page's own address: a cache must tell them apart.
WEEK_VARY = ("Cookie", "HX-Target")


def week_tag(request, *, motive, week, now, audience) -> str:
    """The ETag of the week of slots sent to htmx: the state of its slots (computed from the
    agenda row, before any slot is loaded) and what the fragment holds of its reader."""
    state = selectors.week_state(motive=motive, week=week, now=now, audience=audience)
    return conditional.etag(state, *conditional.page_reader(request))


@require_GET
def home(request):
    form = SearchForm(request.GET or None)
    context = {"form": form, "searched": False, "specialties": _specialty_labels()}
    if form.is_bound and form.is_valid():
        context.update(_search(request, form.cleaned_data))
    return render(request, "patients/home.html", context)


def _specialty_labels() -> list[str]:
    return list(specialty_labels().values())


def _cards(hits, *, today: date) -> list[dict]:
    """Each hit with its first slots of the next ``DAYS_SHOWN`` days, ready to print: a results
    page holds up to 400 slot buttons, written here in a few string operations each rather
    than through the template language (about a third of the page's time); the day labels
    are formatted once per day, not per slot."""
    days = [today + timedelta(days=i) for i in range(DAYS_SHOWN)]
    long_names: dict[date, str] = {}

    def long_name(day: date) -> str:
        if day not in long_names:
            long_names[day] = date_format(day, "l j F")
        return long_names[day]

    headings = {d: date_format(d, "D j b") for d in days}
    labels = {d: escape(long_name(d)) for d in days}
    cards = []
    for hit in hits:
        per_day: dict[date, list[str]] = {}
        slots = hit.slots  # in order, in the site's own zone
        for day in days:
            buttons = per_day[day] = []
            if not slots:
                continue
            # The day's first slot found by bisection: a card shows a few of the many.
            i = bisect_left(slots, datetime.combine(day, time(), slots[0].start.tzinfo), key=_start)
            for slot in slots[i : i + SLOTS_PER_DAY]:
                if slot.start.date() != day:
                    break
                clock = f"{slot.start.hour:02d}:{slot.start.minute:02d}"
                buttons.append(
                    f'<li><button type="submit" name="start" value="{slot.start.isoformat()}"'
                    f' class="slot" aria-label="{labels[day]} {clock}">{clock}</button></li>'
                )
        first = hit.first_available
        cards.append(
            {
                "hit": hit,
                "url": reverse("practitioner", args=[hit.practitioner.pk])
                + f"?agenda={hit.agenda.pk}",
                "days": [
                    (headings[d], mark_safe("".join(buttons)) if buttons else "")  # escaped above
                    for d, buttons in per_day.items()
                ],
                "first": (
                    f"{long_name(first.date())}, {first.hour:02d}:{first.minute:02d}"
                    if first is not None
                    else ""
                ),
            }
        )
    return cards


def _start(slot):
    return slot.start


def _search(request, data) -> dict:
    where = data["where"]
    place = resolve_place(where) if where else None
    near = place.coordinates if place else None
    page_number = data["page"] or 1
    if place is not None and near is None:
        # Several communes start so ("Vitry"), or none is spelt so ("Parsi"): let them choose.
        choices = place.choices or place.suggestions
        links = [(c.label, _query_with(request, where=c.query)) for c in choices]
        if place.choices:
            problem = _("Several places match: which one do you mean?")
        elif place.suggestions:
            problem = _("We do not know “%(place)s”. Did you mean:") % {"place": where}
        else:
            problem = _("We do not know this place yet.")
        return {
            "searched": True,
            "hits": [],
            "radius": RADIUS_KM,
            "problem": problem,
            "places": links,
        }
    sort = data["sort"] or "earliest"
    result = search_practitioners(
        specialty=data["specialty_code"],
        q=data["name"],
        near=near,
        radius_km=RADIUS_KM if near else None,
        mode="video" if data["video"] else None,
        within_days=int(data["within"]) if data["within"] else None,
        language=data["language"] or None,
        sector=data["sector"] or None,
        sort=sort if (sort != "distance" or near) else "earliest",
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    cards = _cards(result.hits, today=timezone.localdate())
    pages = Paginator(range(result.count), PAGE_SIZE)
    page = pages.get_page(page_number)
    query = request.GET.copy()
    query.pop("page", None)
    understood = None
    if data["specialty_code"] and data["what"]:
        chosen = specialty_labels().get(data["specialty_code"])
        if chosen and fold(chosen) != fold(data["what"]):
            understood = chosen  # "generaliste" was taken for "Médecin généraliste"
    return {
        "understood": understood,
        "homonyms": [
            (c.label, _query_with(request, where=c.query))
            for c in (place.homonyms if place else ())
        ],
        "approximate": result.approximate,
        "searched": True,
        "hits": cards,
        "count": result.count,
        "radius": RADIUS_KM,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(data[k] for k in ("video", "within", "language", "sector")),
        "problem": None,
    }


def _query_with(request, **values) -> str:
    """The search's query string with ``values`` changed, back to its first page."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


@require_GET
def practitioner(request, pk: int):
    """A practitioner's page. Answering "already consulted?" or choosing a motive reloads only
    what follows (htmx asks for ``HX-Target``); without JavaScript the form's button does."""
    found = selectors.published_practitioner(pk)
    if found is None:
        raise Http404
    agendas = [a for a in found.bookable_agendas if a.online_motives]
    known = request.GET.get("known")  # "yes" / "no": has the patient consulted before?
    known = known if known in ("yes", "no") else None
    chosen_agenda = _pick(agendas, request.GET.get("agenda"))
    offered = chosen_agenda.online_motives if chosen_agenda else []
    motives = offered
    if known == "no":
        motives = [m for m in motives if m.open_to_new_patients]
    motive = _pick(motives, request.GET.get("motive"))
    target = request.headers.get("HX-Target")
    week = waitlist_form = tag = None
    if motive is not None:
        motive.agenda = chosen_agenda
        now = timezone.now()
        chosen_week = query_date(request.GET, "week")
        audience = selectors.patient_audience(request.user, chosen_agenda, now=now)
        if target == "week":  # the week changed: a 304 when its slots did not
            tag = week_tag(request, motive=motive, week=chosen_week, now=now, audience=audience)
            if conditional.matches(request, tag):
                return conditional.not_modified(tag, private=True, vary=WEEK_VARY)
        week = selectors.week_of_slots(motive=motive, week=chosen_week, now=now, audience=audience)
        if request.user.is_authenticated:
            waitlist_form = WaitlistForm(
                profiles=selectors.profiles_of(request.user),
                initial={"before": timezone.localdate() + timedelta(days=14)},
            )
    context = {
        "practitioner": found,
        "agendas": agendas,
        "agenda": chosen_agenda,
        "motives": motives,
        "motive": motive,
        "known": known,
        "asks_known": any(not m.open_to_new_patients for m in offered),
        "known_choices": (("yes", _("Yes")), ("no", _("No"))),
        "week": week,
        "waitlist_form": waitlist_form,
    }
    if target == "week":
        response = render(request, "patients/_week.html", context)
        return (
            conditional.validated(response, tag, private=True, vary=WEEK_VARY) if tag else response
        )
    if target in ("motive-step", "slots-step"):
        return render(request, "patients/_booking_step.html", context | {"target": target})
    context |= {
        "initials": "".join(part[:1] for part in (found.first_name, found.last_name)).upper(),
        "languages": _language_names(found.languages),
        "priced": [m for m in offered if m.price is not None],
        "hours": [
            {"name": _weekday_name(day.weekday), "spans": day.spans}
            for day in (selectors.opening_hours(chosen_agenda) if chosen_agenda else [])
        ],
    }
    return render(request, "patients/practitioner.html", context)


def _language_names(codes: str) -> list[str]:
    """ "Français, anglais" in French, "French, English" in English."""
    names = []
    for code in [c.strip() for c in codes.split(",") if c.strip()] or ["fr"]:
        try:
            names.append(str(get_language_info(code)["name_translated"]))
        except KeyError:
            names.append(code)
    if not (get_language() or "fr").startswith("en"):
        names = [name.lower() for name in names]
    return [capfirst(names[0]), *names[1:]]


def _weekday_name(weekday: int) -> str:
    # 2024-01-01 was a Monday.
    return capfirst(date_format(date(2024, 1, 1 + weekday), "l"))


def _pick(items, wanted):
    if not items:
        return None
    if len(items) == 1 and wanted is None:
        return items[0]
    wanted_id = parse_id(wanted)
    if wanted_id is None:
        return None if len(items) > 1 else items[0]
    return next((i for i in items if i.pk == wanted_id), None)


def practitioner_url(motive, *, week: date | None = None, fragment: str = "slots") -> str:
    """Where the patient chooses a slot of ``motive`` again: its practitioner's page, or its
    department's for an agenda of no practitioner (a hospital's "Consultation cardiologie")."""
    agenda = motive.agenda
    if agenda.practitioner_id is None and agenda.department_id is not None:
        from .establishments import department_url

        department = selectors.department_with_organisation(agenda.department_id)
        return department_url(department, motive=motive, week=week)
    params = {"agenda": motive.agenda_id, "motive": motive.pk}
    if week:
        params["week"] = week.isoformat()
    url = reverse("practitioner", args=[motive.agenda.practitioner_id])
    return f"{url}?{urlencode(params)}#{fragment}"
