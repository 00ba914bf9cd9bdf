"""Forms of the back office: booking for a patient, moving, cancelling, blocking, patient files."""

from __future__ import annotations

import re
from datetime import date
from datetime import time as wall_time

from django import forms
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import DateField, IdField
from consulto.scheduling.models import PatientProfile

from .models import PatientFile


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class MoveForm(forms.Form):
    date = DateField(label=_("New date"), widget=DateInput())
    time = forms.TimeField(label=_("New time"), widget=TimeInput())


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the patient reads it)"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Say why the appointment is cancelled.")},
    )


class BlockForm(forms.Form):
    start_date = DateField(label=_("From (date)"), widget=DateInput())
    start_time = forms.TimeField(label=_("From (time)"), widget=TimeInput())
    end_date = DateField(label=_("To (date)"), widget=DateInput())
    end_time = forms.TimeField(label=_("To (time)"), widget=TimeInput())
    reason = forms.CharField(label=_("Reason (staff only)"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        parts = [data.get(k) for k in ("start_date", "start_time", "end_date", "end_time")]
        if all(p is not None for p in parts) and (parts[2], parts[3]) <= (parts[0], parts[1]):
            self.add_error("end_time", _("The end must be after the start."))
        return data


class IdentityForm(forms.ModelForm):
    class Meta:
        model = PatientProfile
        fields = ["first_name", "last_name", "birth_date", "phone", "email", "ins"]
        field_classes = {"birth_date": DateField}
        widgets = {"birth_date": DateInput()}

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > date.today() or value.year < 1900:
            raise forms.ValidationError(_("Enter a real birth date."))
        return value

    def clean_ins(self):
        value = "".join(self.cleaned_data.get("ins", "").split())
        if value and (not value.isdigit() or len(value) != 15):
            raise forms.ValidationError(_("The INS has 15 digits (13 and a 2-digit key)."))
        return value


class AddressForm(forms.ModelForm):
    """Where the patient lives, as the practice records it."""

    class Meta:
        model = PatientFile
        fields = ["address", "postcode", "city"]
        labels = {
            "address": _("Address (number and street)"),
            "postcode": _("Postcode"),
            "city": _("City"),
        }
        widgets = {
            "address": forms.TextInput(attrs={"autocomplete": "off"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
            "city": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def clean_postcode(self):
        value = " ".join(self.cleaned_data["postcode"].split())
        if value and not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z -]{1,9}", value):
            raise forms.ValidationError(_("Enter a postcode such as 75019."))
        return value.upper()


class NewAppointmentForm(forms.Form):
    """Who, what, when. The motives offered are the chosen agenda's; the time is one of its free
    slots or another time staff type. The patient is a file of the organisation or a new one."""

    PATIENT_CHOICES = (("file", _("A patient of the practice")), ("new", _("A new patient")))
    OTHER = "other"

    agenda = forms.ChoiceField(label=_("Agenda"))
    motive = forms.ChoiceField(
        label=_("Motive"), error_messages={"invalid_choice": _("Choose a motive of this agenda.")}
    )
    date = DateField(label=_("Date"), widget=DateInput())
    # A free slot ("09:30") picked in the list, or OTHER with ``other_time`` typed.
    time = forms.CharField(required=False, max_length=8)
    other_time = forms.TimeField(label=_("Another time"), required=False, widget=TimeInput())
    # The start staff confirmed after being warned (past, night, outside the openings).
    confirmed = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    patient_kind = forms.ChoiceField(
        label=_("Patient"), choices=PATIENT_CHOICES, widget=forms.RadioSelect, initial="file"
    )
    query = forms.CharField(
        label=_("Find the patient (name, phone or birth date)"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )
    file = IdField(required=False, widget=forms.HiddenInput)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    birth_date = DateField(label=_("Birth date"), required=False, widget=DateInput())
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)

    def __init__(self, *args, agendas, motives, **kwargs):
        super().__init__(*args, **kwargs)
        self.agendas = {str(a.pk): a for a in agendas}
        self.fields["agenda"].choices = [(str(a.pk), a.name) for a in agendas]
        wanted = str(self.data.get("agenda") if self.is_bound else self.initial.get("agenda"))
        # The agenda the motives are offered for: the one chosen, else the first.
        self.current_agenda = self.agendas.get(wanted) or (agendas[0] if agendas else None)
        own = [m for m in motives if self.current_agenda and m.agenda_id == self.current_agenda.pk]
        self.motives = {str(m.pk): m for m in own}
        self.fields["motive"].choices = [
            (str(m.pk), f"{m.label} ({m.duration_minutes} min)") for m in own
        ]
        self.chosen_file = None

    def clean_agenda(self):
        return self.agendas[self.cleaned_data["agenda"]]

    def clean_motive(self):
        return self.motives[self.cleaned_data["motive"]]

    def clean(self):
        data = super().clean()
        self._clean_time(data)
        agenda = data.get("agenda")
        if data.get("patient_kind") == "new":
            missing = [k for k in ("first_name", "last_name", "birth_date") if not data.get(k)]
            for name in missing:
                self.add_error(name, _("Needed for a new patient."))
            birth = data.get("birth_date")
            if birth and (birth > date.today() or birth.year < 1900):
                self.add_error("birth_date", _("Enter a real birth date."))
            data["new_patient"] = {
                k: data.get(k) or "" for k in ("first_name", "last_name", "phone", "email")
            } | {"birth_date": birth}
            data["file"] = None
        elif agenda:
            file = (
                PatientFile.objects.select_related("profile")
                .filter(pk=data.get("file") or 0, organisation_id=agenda.organisation_id)
                .first()
            )
            self.chosen_file = file
            if file is None:
                self.add_error("query", _("Find the patient and choose them in the list."))
            data["file"] = file
            data["new_patient"] = None
        return data

    def _clean_time(self, data) -> None:
        picked, other = data.get("time") or "", data.get("other_time")
        if picked and picked != self.OTHER:
            try:
                data["time"] = wall_time.fromisoformat(picked)
            except ValueError:
                self.add_error("time", _("Choose a free slot or give another time."))
        elif other is not None:
            data["time"] = other
        elif "other_time" not in self.errors:
            self.add_error(
                "other_time" if picked == self.OTHER else "time",
                _("Choose a free slot or give another time."),
            )


class FileSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone or birth date (dd/mm/yyyy)"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("New note (visible to the practitioners only)"),
        max_length=20_000,
        error_messages={"required": _("Write the note first.")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DocumentForm(forms.Form):
    document = forms.FileField(
        label=_("Document (PDF, JPEG or PNG, 10 MB at most)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class OnlineBookingForm(forms.Form):
    allowed = forms.BooleanField(required=False)
