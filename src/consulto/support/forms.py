"""The support desk's forms: the customer's request, and the agent's wrap-up, reply, note,
transfer and consultation forms. Services check the rules again; forms give the errors in the
user's language."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import IdField, LocalDateTimeField

from .categories import offered
from .models import Agent, Contact, Kind, Product, Ticket
from .services import WRAP_REASONS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".png,.jpg,.jpeg,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class HelpForm(forms.Form):
    CHANNELS = (
        ("now", _("Call me back now")),
        ("later", _("Call me back at a time")),
        ("chat", _("Chat with an agent")),
        ("email", _("Write to us")),
    )
    channel = forms.ChoiceField(
        label=_("How should we answer?"), choices=CHANNELS, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(label=_("What is it about?"), choices=())
    call_at = forms.ChoiceField(label=_("Call me at"), choices=(), required=False)
    phone = forms.CharField(
        label=_("Phone number to call"),
        max_length=32,
        required=False,
        help_text=_("If you are not at your computer: we call this number."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    text = forms.CharField(
        label=_("Your message"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(
        label=_("Screenshots or PDF (optional, up to 5 files of 10 MB)"), required=False
    )

    def __init__(self, *args, professional: bool, slots: list[datetime], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (c.code, c.label) for c in offered(professional=professional)
        ]
        self.slots = {s.isoformat(): s for s in slots}
        self.fields["call_at"].choices = [("", "—")] + [
            (key, date_format(timezone.localtime(s), "l j F, H:i")) for key, s in self.slots.items()
        ]

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel == "later" and not data.get("call_at"):
            self.add_error("call_at", _("Choose a time."))
        if channel == "email" and not (data.get("text") or "").strip():
            self.add_error("text", _("Tell us what happens."))
        return data

    @property
    def call_time(self) -> datetime | None:
        key = self.cleaned_data.get("call_at")
        return self.slots.get(key) if key else None


class WrapUpForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=list(WRAP_REASONS.items()))
    ticket_status = forms.ChoiceField(
        label=_("Ticket status"),
        choices=[("", _("Unchanged")), *Ticket.Status.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Internal note (optional)"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply to the customer"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CustomerMessageForm(forms.Form):
    text = forms.CharField(
        label=_("Add a message to your request"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TransferForm(forms.Form):
    to_agent = IdField(label=_("To a colleague"), required=False)
    product = forms.ChoiceField(
        label=_("Or to a skill"), choices=[("", "—"), *Product.choices], required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *Kind.choices], required=False)

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agent"].widget = forms.Select(
            choices=[("", "—")] + [(a.pk, f"{a} ({a.team})") for a in colleagues]
        )


class ConsultForm(forms.Form):
    question = forms.CharField(
        label=_("Your question to the supervisor"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    call_back_at = LocalDateTimeField(
        label=_("Call the customer back at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(
        choices=[
            (Agent.Presence.AVAILABLE, Agent.Presence.AVAILABLE.label),
            (Agent.Presence.BREAK, Agent.Presence.BREAK.label),
            (Agent.Presence.OFFLINE, Agent.Presence.OFFLINE.label),
        ]
    )


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the help you got?"),
        choices=[
            (5, _("5 — very satisfied")),
            (4, "4"),
            (3, "3"),
            (2, "2"),
            (1, _("1 — not at all")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("A comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


CHANNEL_OF = {
    "now": Contact.Channel.CALL,
    "later": Contact.Channel.CALL,
    "chat": Contact.Channel.CHAT,
    "email": Contact.Channel.EMAIL,
}


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Open ones")), *Ticket.Status.choices], required=False
    )
    product = forms.ChoiceField(
        label=_("Product"), choices=[("", _("All")), *Product.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Past their service level"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)


class TicketStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Ticket status"), choices=Ticket.Status.choices)
