"""The console's forms: the call, the choice of a slot, the outcome. Every field refuses what a
slip of the keyboard or a hostile request may send (NUL bytes, year 0001, ids too big)."""

from __future__ import annotations

import re
from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import DateField, IdField, LocalDateTimeField
from consulto.core.time import is_plausible_instant
from consulto.directory.models import Specialty
from consulto.directory.selectors import place_coordinates
from consulto.notifications.sms import InvalidPhoneNumber, normalise_phone

from .models import RegulationCase
from .services import CallDetails

Need, Outcome = RegulationCase.Need, RegulationCase.Outcome
DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d%m%Y", "%Y-%m-%d"]


class CallForm(forms.Form):
    caller = forms.ChoiceField(
        label=_("Who is calling"),
        choices=RegulationCase.Caller.choices,
        initial="patient",
        widget=forms.Select(attrs={"autofocus": True}),
    )
    caller_name = forms.CharField(
        label=_("Caller's name (when not the patient)"), max_length=200, required=False
    )
    last_name = forms.CharField(label=_("Patient's last name"), max_length=100)
    first_name = forms.CharField(label=_("Patient's first name"), max_length=100)
    birth_date = DateField(
        label=_("Birth date"),
        input_formats=DATE_FORMATS,
        help_text=_("dd/mm/yyyy"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Patient's mobile phone"),
        max_length=32,
        help_text=_("The confirmation SMS goes to this number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=5,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    address = forms.CharField(
        label=_("Address (optional)"),
        max_length=255,
        required=False,
        help_text=_("Street, postcode and town: used when the postcode is not given."),
    )
    need = forms.ChoiceField(label=_("Need"), choices=Need.choices, initial=Need.GP_48H)
    specialty = forms.ModelChoiceField(
        label=_("Specialty (for a specialist)"),
        queryset=Specialty.objects.filter(is_resource=False).order_by("label_fr"),
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the call"),
        max_length=1000,
        required=False,
        help_text=_("Short: symptoms, since when. Stored encrypted; the practitioner reads it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidPhoneNumber:
            raise forms.ValidationError(
                _("Enter a phone number that can receive an SMS, e.g. 06 12 34 56 78.")
            ) from None

    def clean_postcode(self):
        postcode = self.cleaned_data["postcode"].strip()
        if postcode and not re.fullmatch(r"\d[\dAB]\d{3}", postcode):
            raise forms.ValidationError(_("A postcode has 5 characters, e.g. 75019."))
        return postcode

    def clean(self):
        data = super().clean()
        if data.get("need") == Need.SPECIALIST and not data.get("specialty"):
            self.add_error("specialty", _("Choose the specialty the patient needs."))
        postcode, address = data.get("postcode"), data.get("address", "")
        if "postcode" in data and not postcode and not address:
            self.add_error("postcode", _("Give the postcode, or the address."))
        elif postcode and place_coordinates(postcode) is None:
            self.add_error(
                "postcode", _("This postcode is not known: check it, or give the address.")
            )
        elif not postcode and address:
            codes = re.findall(r"\b\d{5}\b", address)
            city = address.split(",")[-1].strip()
            places = [*codes, re.sub(r"^\d{5}\s*", "", city)]
            if not any(p and place_coordinates(p) for p in places):
                self.add_error("address", _("No town found in this address: add the postcode."))
            elif codes:
                data["postcode"] = codes[0]
        return data

    def call_details(self) -> CallDetails:
        d = self.cleaned_data
        return CallDetails(
            caller=d["caller"],
            caller_name=d["caller_name"].strip(),
            first_name=d["first_name"].strip(),
            last_name=d["last_name"].strip(),
            birth_date=d["birth_date"],
            phone=d["phone"],
            email=d["email"],
            postcode=d["postcode"],
            address=d["address"].strip(),
            need=d["need"],
            specialty=d.get("specialty"),
            reason=d["reason"].strip(),
        )


class InstantField(forms.Field):
    """An instant as the page gave it (ISO 8601 with its offset)."""

    def to_python(self, value):
        value = (value or "").strip() if isinstance(value, str) else ""
        if not value:
            return None
        if len(value) > 40:
            raise forms.ValidationError(_("This slot is not valid."), code="invalid")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("This slot is not valid."), code="invalid") from None
        if moment.tzinfo is None or not is_plausible_instant(moment):
            raise forms.ValidationError(_("This slot is not valid."), code="invalid")
        return moment


class BookForm(forms.Form):
    agenda = IdField()
    motive = IdField()
    start = InstantField()


class MoveForm(forms.Form):
    start = InstantField()


class ExtraForm(forms.Form):
    practitioner = IdField()
    expected_at = LocalDateTimeField(
        label=_("Expected at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Outcome.EMERGENCY, Outcome.EMERGENCY.label),
            (Outcome.ADVICE, Outcome.ADVICE.label),
        ],
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason given to the patient"),
        max_length=255,
        help_text=_("Sent to the patient with the cancellation."),
    )


class SearchOptions(forms.Form):
    wide = forms.BooleanField(label=_("Widen to 72 h and 50 km"), required=False)
    in_person = forms.BooleanField(label=_("In person only (no video)"), required=False)


class CaseFilter(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("All")), *Outcome.choices], required=False
    )
    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[(1, _("Today")), (7, _("Last 7 days")), (30, _("Last 30 days"))],
        coerce=int,
        required=False,
        empty_value=7,
    )
