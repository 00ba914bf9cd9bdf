"""The support desk's pages: the help panel and the customer's requests (/aide/), the agent's
console and the supervisor's team view (/support/)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError, NotFound
from consulto.practice.access import second_factor_gate

from . import access, answers, calls, dispatch, selectors, services, telephony
from .categories import BY_CODE, offered
from .forms import (
    CHANNEL_OF,
    ConsultForm,
    CustomerMessageForm,
    HelpForm,
    NoteForm,
    PresenceForm,
    ReplyForm,
    SurveyForm,
    TicketFilterForm,
    TicketStatusForm,
    TransferForm,
    WrapUpForm,
)
from .models import Agent, Contact, ReplyTemplate, Survey
from .snapshot import page_of

PAGE_SALT = "consulto.support.page"


def call_texts() -> dict:
    """What the call panel says (static/support/call.js), in the page's language."""
    return {
        "waiting": _("Stay on this page: the agent calls you here, in Consulto."),
        "ringing": _("An agent is calling you."),
        "calling": _("Calling…"),
        "connecting": _("Connecting…"),
        "connected": _("Connected: you can talk."),
        "failed": _("The call could not connect. The agent will call your phone."),
        "ended": _("The call has ended."),
        "onHold": _("On hold."),
        "customerHere": _("The customer's page is open: you can call them in Consulto."),
        "customerAway": _("The customer's page is closed: call their phone."),
        "noMicrophone": _("No microphone: allow it in the browser, or use the phone."),
        "closed": _("This call is over."),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
    }


def phone_texts() -> dict:
    """What the phone panel says (static/support/phone.js), in the page's language."""
    return {
        "calling": _("Calling their phone…"),
        "ringing": _("Their phone is ringing…"),
        "connected": _("Connected: you can talk."),
        "ended": _("The phone call has ended."),
        "busy": _("Their line is busy."),
        "noAnswer": _("No answer."),
        "unreachable": _("This number could not be reached."),
        "failed": _("The phone call could not be placed: call them from your own phone."),
        "onHold": _("On hold."),
        "noMicrophone": _("No microphone: allow it in the browser, or use the phone."),
        "closed": _("This call is over."),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
    }


def _professional(user) -> bool:
    from consulto.directory.models import Membership, Practitioner

    return (
        Membership.objects.filter(user=user).exists()
        or Practitioner.objects.filter(user=user).exists()
    )


# The customer's side -----------------------------------------------------------------------------


@login_required
def help_panel(request):
    """Answers first (the page's suggestions, a search), then the channels in the order support
    prefers: a callback now, at a time, a chat, a written request."""
    professional = _professional(request.user)
    if request.method == "GET":
        page = page_of(request.headers.get("referer", ""), request.get_host())
        signed_page = signing.dumps(page, salt=PAGE_SALT)
    else:
        signed_page = request.POST.get("page", "")
        try:
            page = signing.loads(signed_page, salt=PAGE_SALT, max_age=24 * 3600)
        except signing.BadSignature:
            page = ""
    query = (request.GET.get("q") or "")[:200].replace("\x00", "")
    found = answers.search(query, professional=professional) if query else []
    suggested = answers.suggestions(page=page, professional=professional)
    now = timezone.now()
    categories = offered(professional=professional)
    product, kind = categories[0].product, categories[0].kind
    chosen = BY_CODE.get(request.POST.get("category") or request.GET.get("categorie") or "")
    if chosen is not None and chosen.professional == professional:
        product, kind = chosen.product, chosen.kind
    language = (request.LANGUAGE_CODE or "fr")[:2]
    slots = dispatch.callback_slots(product=product, kind=kind, language=language, now=now)
    wait = selectors.expected_wait_seconds(product=product, kind=kind, language=language, now=now)
    form = HelpForm(
        request.POST or None,
        request.FILES or None,
        professional=professional,
        slots=slots,
        initial={"channel": "now" if wait is not None else "later"},
        auto_id="help_%s",  # the panel opens over pages that have forms of their own
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.ask_for_help(
                user=request.user,
                channel=CHANNEL_OF[data["channel"]],
                category=data["category"],
                text=data["text"],
                phone=data["phone"],
                call_at=form.call_time if data["channel"] == "later" else None,
                page=page,
                user_agent=request.headers.get("user-agent", ""),
                attachments=[(f.name, f.read()) for f in data["attachments"]],
                now=now,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(
                request, _("Your request is recorded: %(ref)s.") % {"ref": contact.ticket.reference}
            )
            return redirect("support:request", contact.ticket_id)
    panel = request.method == "GET" and request.GET.get("panel") == "1"
    return render(
        request,
        "support/_help_panel.html" if panel else "support/help.html",
        {
            "form": form,
            "page": signed_page,
            "page_path": page,
            "query": query,
            "found": found,
            "suggested": suggested,
            "wait_minutes": None if wait is None else round(wait / 60),
            "links": {a.code: answers.link(a) for a in (*found, *suggested)},
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
def my_requests(request):
    return render(
        request, "support/requests.html", {"tickets": selectors.customer_requests(request.user)}
    )


@login_required
def request_page(request, pk: int):
    found = selectors.customer_request(request.user, pk)
    if found is None:
        raise Http404
    ticket, contacts, entries = found
    form = CustomerMessageForm(request.POST or None)
    if request.method == "POST":
        if "cancel" in request.POST:
            contact_id = _id(request.POST.get("cancel"))
            try:
                services.cancel_request(user=request.user, contact_id=contact_id)
                messages.success(request, _("Your request is cancelled."))
            except DomainError as error:
                messages.error(request, str(error.message))
            return redirect("support:request", pk)
        if form.is_valid():
            try:
                services.customer_reply(
                    user=request.user, ticket_id=pk, text=form.cleaned_data["text"]
                )
                return redirect("support:request", pk)
            except DomainError as error:
                form.add_error("text", str(error.message))
    return render(
        request,
        "support/request.html",
        {
            "ticket": ticket,
            "contacts": contacts,
            "entries": entries,
            "form": form,
            "open_statuses": Contact.OPEN_STATUSES,
            "call": calls.ongoing_call(ticket),
            "call_texts": call_texts(),
        },
        status=422 if request.method == "POST" else 200,
    )


def survey(request, token: str):
    found = Survey.objects.select_related("ticket").filter(token=token[:64]).first()
    if found is None:
        raise Http404
    form = SurveyForm(request.POST or None, initial={"score": found.score})
    if request.method == "POST" and form.is_valid():
        services.answer_survey(
            token=found.token,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
        return render(request, "support/survey_thanks.html", {"survey": found})
    return render(
        request,
        "support/survey.html",
        {"survey": found, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def attachment(request, pk: int):
    try:
        name, content_type, content = services.read_attachment(
            viewer=request.user, attachment_id=pk, ip=client_ip(request)
        )
    except NotFound as error:
        raise Http404 from error
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# The agent's side --------------------------------------------------------------------------------


def agent_view(view):
    """Logged in, an active agent, a second factor: the console shows health-adjacent data."""

    @wraps(view)
    def gate(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        agent = access.agent_of(request.user)
        if agent is None:
            raise Http404
        refused = second_factor_gate(
            request,
            _("Support agents see customers' data: set up an authenticator app first."),
        )
        if refused:
            return refused
        request.agent = agent
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404 from error

    return gate


@agent_view
def console_page(request):
    agent = request.agent
    state = selectors.console(agent)
    return render(
        request,
        "support/console.html",
        {
            "state": state,
            "presence_form": PresenceForm(initial={"presence": agent.presence}),
            "is_supervisor": access.is_supervisor(agent),
        },
    )


@agent_view
def console_live(request):
    """The live part of the console (offers, my contacts, queue), fetched again when the
    WebSocket says something changed."""
    return render(
        request,
        "support/_console_live.html",
        {
            "state": selectors.console(request.agent),
            "is_supervisor": access.is_supervisor(request.agent),
        },
    )


@agent_view
@require_POST
def presence(request):
    form = PresenceForm(request.POST)
    if form.is_valid():
        try:
            services.set_presence(agent=request.agent, presence=form.cleaned_data["presence"])
        except DomainError as error:
            messages.error(request, str(error.message))
    return redirect("support:console")


@agent_view
@require_POST
def contact_action(request, pk: int, action: str):
    agent = request.agent
    try:
        if action == "accept":
            services.accept(agent=agent, contact_id=pk)
        elif action == "decline":
            services.decline(agent=agent, contact_id=pk)
            return redirect("support:console")
        elif action == "take":
            services.take(agent=agent, contact_id=pk)
        elif action == "hold":
            services.hold(agent=agent, contact_id=pk, on=True)
        elif action == "resume":
            services.hold(agent=agent, contact_id=pk, on=False)
        elif action == "end":
            services.end(agent=agent, contact_id=pk)
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("support:console")
    return redirect("support:contact", pk)


@agent_view
def contact_page(request, pk: int):
    agent = request.agent
    view = selectors.contact_view(agent, pk, ip=client_ip(request))
    contact = view.contact
    forms = {
        "wrap": WrapUpForm(),
        "reply": ReplyForm(),
        "note": NoteForm(),
        "transfer": TransferForm(colleagues=access.colleagues(agent).exclude(pk=agent.pk)[:200]),
        "consult": ConsultForm(),
    }
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "")
        status = 422
        try:
            done = _contact_post(request, agent, contact, which, forms)
        except DomainError as error:
            messages.error(request, str(error.message))
            done = None
        if done is not None:
            return done
    templates = ReplyTemplate.objects.filter(language=view.ticket.language).filter(
        product__in=["", contact.product]
    )[:20]
    return render(
        request,
        "support/contact.html",
        {
            "view": view,
            "forms": forms,
            "templates": templates,
            "snapshot": view.snapshot,
            "is_supervisor": access.is_supervisor(agent),
            "call_texts": call_texts(),
            "phone": telephony.panel(contact.phone),
            "phone_texts": phone_texts(),
        },
        status=status,
    )


def _contact_post(request, agent: Agent, contact: Contact, which: str, forms: dict):
    if which == "wrap":
        form = forms["wrap"] = WrapUpForm(request.POST)
        if form.is_valid():
            services.wrap_up(agent=agent, contact_id=contact.pk, **form.cleaned_data)
            messages.success(request, _("Contact filed."))
            return redirect("support:console")
    elif which == "reply":
        form = forms["reply"] = ReplyForm(request.POST)
        if form.is_valid():
            services.reply(agent=agent, ticket_id=contact.ticket_id, text=form.cleaned_data["text"])
            messages.success(request, _("Reply sent."))
            return redirect("support:contact", contact.pk)
    elif which == "note":
        form = forms["note"] = NoteForm(request.POST)
        if form.is_valid():
            services.add_note(
                agent=agent, ticket_id=contact.ticket_id, text=form.cleaned_data["text"]
            )
            return redirect("support:contact", contact.pk)
    elif which == "transfer":
        form = forms["transfer"] = TransferForm(
            request.POST, colleagues=access.colleagues(agent).exclude(pk=agent.pk)[:200]
        )
        if form.is_valid():
            data = form.cleaned_data
            services.transfer(
                agent=agent,
                contact_id=contact.pk,
                to_agent_id=data["to_agent"],
                product=data["product"],
                kind=data["kind"],
            )
            messages.success(request, _("Contact transferred."))
            return redirect("support:console")
    elif which == "consult":
        form = forms["consult"] = ConsultForm(request.POST)
        if form.is_valid():
            services.consult_supervisor(agent=agent, contact_id=contact.pk, **form.cleaned_data)
            messages.success(
                request, _("Your supervisor has your question; the callback is planned.")
            )
            return redirect("support:console")
    return None


@agent_view
def contact_entries(request, pk: int):
    """The conversation and notes of a contact's ticket, fetched again when something changed
    (a customer's chat message): no snapshot read, nothing else of the page."""
    contact = access.contacts(request.agent).filter(pk=pk).select_related("ticket").first()
    if contact is None:
        raise Http404
    return render(
        request,
        "support/_entries.html",
        {"entries": selectors.entries_of(contact.ticket, internal=True)},
    )


@agent_view
def tickets_page(request):
    """The backlog: the tickets the agent may see, filtered, the most urgent first."""
    form = TicketFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.ticket_list(
        request.agent,
        status=filters.get("status") or "",
        product=filters.get("product") or "",
        overdue=bool(filters.get("overdue")),
        mine=bool(filters.get("mine")),
    )
    return render(request, "support/tickets.html", {"form": form, "rows": rows})


@agent_view
def ticket_page(request, pk: int):
    agent = request.agent
    forms = {"reply": ReplyForm(), "note": NoteForm(), "status": TicketStatusForm()}
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "")
        status = 422
        try:
            if which == "reply":
                form = forms["reply"] = ReplyForm(request.POST)
                if form.is_valid():
                    services.reply(agent=agent, ticket_id=pk, text=form.cleaned_data["text"])
                    messages.success(request, _("Reply sent."))
                    return redirect("support:ticket", pk)
            elif which == "note":
                form = forms["note"] = NoteForm(request.POST)
                if form.is_valid():
                    services.add_note(agent=agent, ticket_id=pk, text=form.cleaned_data["text"])
                    return redirect("support:ticket", pk)
            elif which == "status":
                form = forms["status"] = TicketStatusForm(request.POST)
                if form.is_valid():
                    services.set_ticket_status(
                        agent=agent, ticket_id=pk, status=form.cleaned_data["status"]
                    )
                    return redirect("support:ticket", pk)
        except DomainError as error:
            messages.error(request, str(error.message))
    view = selectors.ticket_view(agent, pk, ip=client_ip(request))
    forms["status"].initial = {"status": view.ticket.status}
    return render(
        request,
        "support/ticket.html",
        {"view": view, "forms": forms, "snapshot": view.snapshot},
        status=status,
    )


@agent_view
def team_page(request):
    if not access.is_supervisor(request.agent):
        raise Http404
    rows, queues = selectors.team_view(request.agent)
    return render(request, "support/team.html", {"rows": rows, "queues": queues})


@agent_view
@require_POST
def consult_answer(request, pk: int):
    text = request.POST.get("text", "")
    try:
        services.answer_consult(supervisor=request.agent, consult_id=pk, text=text)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("support:console")


def _id(value) -> int:
    from consulto.core.inputs import parse_id

    found = parse_id(value)
    if found is None:
        raise Http404
    return found


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


customer_urlpatterns = [
    path("aide/", help_panel, name="help"),
    path("aide/demandes/", my_requests, name="requests"),
    path("aide/demandes/<id:pk>/", request_page, name="request"),
    path("aide/avis/<str:token>/", survey, name="survey"),
    path("aide/pieces/<id:pk>/", attachment, name="attachment"),
]
agent_urlpatterns = [
    path("support/", console_page, name="console"),
    path("support/direct/", console_live, name="console_live"),
    path("support/presence/", presence, name="presence"),
    path("support/equipe/", team_page, name="team"),
    path("support/tickets/", tickets_page, name="tickets"),
    path("support/tickets/<id:pk>/", ticket_page, name="ticket"),
    path("support/contacts/<id:pk>/", contact_page, name="contact"),
    path("support/contacts/<id:pk>/fil/", contact_entries, name="contact_entries"),
    path("support/contacts/<id:pk>/<slug:action>/", contact_action, name="contact_action"),
    path("support/consultations/<id:pk>/", consult_answer, name="consult_answer"),
]
urlpatterns = customer_urlpatterns + agent_urlpatterns
