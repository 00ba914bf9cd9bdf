"""Forms of the referral pages (adressage): find the patient, find a slot, send the referral."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import IdField
from consulto.core.time import parse_instant
from consulto.directory.models import Specialty
from consulto.scheduling.models import Referral

from .adressage import MAX_LETTER_BYTES, MAX_REASON_CHARS

TOKEN = re.compile(r"[0-9a-f]{32}")


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Patient: name, phone or birth date (dd/mm/yyyy)"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class SlotSearchForm(forms.Form):
    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    place = forms.CharField(
        label=_("Near (city or postcode)"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        specialties = Specialty.objects.order_by("label_fr").values_list("code", "label_fr")
        self.fields["specialty"].choices = [("", _("Any specialty")), *specialties]


class ReferralForm(forms.Form):
    file = IdField(widget=forms.HiddenInput)
    agenda = IdField(widget=forms.HiddenInput)
    motive = IdField(widget=forms.HiddenInput)
    start = forms.CharField(widget=forms.HiddenInput, max_length=40)
    token = forms.CharField(widget=forms.HiddenInput, max_length=32, required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Referral.Urgency.choices, initial=Referral.Urgency.ROUTINE
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        help_text=_(
            "Read by the receiving practitioner only; kept encrypted. The patient does not see it."
        ),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Say why you refer this patient.")},
    )
    letter = forms.FileField(
        label=_("Referral letter (PDF, 5 MB at most)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf"}),
    )

    def clean_start(self):
        moment = parse_instant(self.cleaned_data["start"])
        if moment is None:
            raise ValidationError(_("Choose a slot."), code="invalid")
        return moment

    def clean_token(self):
        token = self.cleaned_data.get("token", "")
        return token if TOKEN.fullmatch(token) else ""

    def clean_letter(self):
        letter = self.cleaned_data.get("letter") or None
        if letter is not None and letter.size > MAX_LETTER_BYTES:
            raise ValidationError(_("The letter may be at most 5 MB."), code="too_big")
        return letter
