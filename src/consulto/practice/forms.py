"""Forms of the back office: booking for a patient, moving, cancelling, blocking, patient files."""

from __future__ import annotations

from datetime import date

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


class NewAppointmentForm(forms.Form):
    """Who, what, when. The patient is a file of the organisation or a new one."""

    PATIENT_CHOICES = (("file", _("A patient of the practice")), ("new", _("A new patient")))

    agenda = forms.ChoiceField(label=_("Agenda"))
    motive = forms.ChoiceField(label=_("Motive"))
    date = DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=TimeInput())
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
        self.motives = {str(m.pk): m for m in motives}
        self.fields["agenda"].choices = [(str(a.pk), a.name) for a in agendas]
        names = {a.pk: a.name for a in agendas}
        self.fields["motive"].choices = [
            (
                names[agenda_id],
                [(str(m.pk), f"{m.label} ({m.duration_minutes} min)") for m in motives
                 if m.agenda_id == agenda_id],
            )
            for agenda_id in names
        ]  # fmt: skip
        self.chosen_file = None

    def clean_agenda(self):
        return self.agendas[self.cleaned_data["agenda"]]

    def clean_motive(self):
        return self.motives[self.cleaned_data["motive"]]

    def clean(self):
        data = super().clean()
        agenda, motive = data.get("agenda"), data.get("motive")
        if agenda and motive and motive.agenda_id != agenda.pk:
            self.add_error("motive", _("This motive belongs to another agenda."))
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
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DocumentForm(forms.Form):
    document = forms.FileField(
        label=_("Document (PDF, JPEG or PNG, 10 MB at most)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class OnlineBookingForm(forms.Form):
    allowed = forms.BooleanField(required=False)
