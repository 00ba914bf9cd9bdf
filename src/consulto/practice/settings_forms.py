"""Forms of the agenda settings: what a practitioner types, checked with messages they can act on.

Forms check what the typed values alone say (an end after its start, a choice among this agenda's
motives); the services in ``agenda_settings.py`` check what needs the database (overlaps).
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from consulto.core.errors import InvalidInput
from consulto.core.fields import DateField, ModelMultipleChoiceField
from consulto.directory.models import Practitioner, Site
from consulto.notifications.models import ReminderSettings
from consulto.notifications.sms import InvalidPhoneNumber, normalise_phone
from consulto.scheduling.models import Agenda, Motive, Opening

from .agenda_settings import MOTIVE_FIELDS, local_bounds
from .models import PracticePolicy
from .settings_selectors import advance_label, cancellation_label, notice_label

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


MIN_NOTICE = (0, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 4320, 10080)
MAX_ADVANCE = (7, 14, 21, 30, 60, 90, 120, 180, 365)
CANCELLATION = (0, 1, 2, 4, 12, 24, 48, 72)


def _choices(values, current, label) -> list[tuple[int, str]]:
    """The usual values, plus the current one if it is unusual (set elsewhere, or long ago)."""
    found = sorted({*values, *([current] if current is not None else [])})
    return [(v, label(v)) for v in found]


# Colours offered for a motive (any other may be typed): the agenda writes its appointments in
# black or white on them, whichever reads better (practice/selectors.text_colour).
MOTIVE_PALETTE = (
    ("#2e6fd8", _("Blue")),
    ("#0b6e99", _("Teal blue")),
    ("#3d5a80", _("Slate")),
    ("#1b7f5a", _("Green")),
    ("#1b998b", _("Turquoise")),
    ("#7a4fc2", _("Purple")),
    ("#8d5fd3", _("Lavender")),
    ("#b3261e", _("Red")),
    ("#d1495b", _("Raspberry")),
    ("#e07a5f", _("Coral")),
    ("#f2a541", _("Orange")),
    ("#946200", _("Ochre")),
)


class MotiveForm(forms.ModelForm):
    class Meta:
        model = Motive
        fields = list(MOTIVE_FIELDS)
        labels = {
            "online": _("Bookable online by patients"),
            "open_to_new_patients": _("Open to new patients"),
            "min_notice_minutes": _("Not sooner than"),
            "max_advance_days": _("Not later than"),
            "cancellation_deadline_hours": _("Patients may cancel online until"),
            "position": _("Position in the list"),
            "is_active": _("Active"),
        }
        help_texts = {
            "duration_minutes": _(
                "Between 5 and 480 minutes. Slots follow one another at this step."
            ),
            "online": _("Unchecked: only the practice books it (staff only)."),
            "open_to_new_patients": _(
                "Unchecked: patients who have never consulted do not see this motive."
            ),
            "instructions": _("Shown to the patient when booking and in the confirmation."),
            "min_notice_minutes": _("How long before the appointment patients may still book."),
            "max_advance_days": _("How far ahead patients may book."),
            "cancellation_deadline_hours": _(
                "After that, the patient is asked to call the practice."
            ),
            "colour": _("The colour of its appointments in the agenda."),
            "position": _("Patients see the motives in this order, smallest first."),
            "is_active": _("Unchecked: hidden everywhere, kept for the appointments booked."),
        }
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 3}),
            "colour": forms.TextInput(attrs={"type": "color", "list": "motive-palette"}),
            "duration_minutes": forms.NumberInput(attrs={"min": 5, "max": 480}),
            "position": forms.NumberInput(attrs={"min": 0}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.fields["min_notice_minutes"] = forms.TypedChoiceField(
            label=self.fields["min_notice_minutes"].label,
            help_text=self.fields["min_notice_minutes"].help_text,
            coerce=int,
            choices=_choices(MIN_NOTICE, instance.min_notice_minutes, notice_label),
        )
        self.fields["max_advance_days"] = forms.TypedChoiceField(
            label=self.fields["max_advance_days"].label,
            help_text=self.fields["max_advance_days"].help_text,
            coerce=int,
            choices=_choices(MAX_ADVANCE, instance.max_advance_days, advance_label),
        )
        self.fields["cancellation_deadline_hours"] = forms.TypedChoiceField(
            label=self.fields["cancellation_deadline_hours"].label,
            help_text=self.fields["cancellation_deadline_hours"].help_text,
            coerce=int,
            choices=_choices(
                CANCELLATION,
                instance.cancellation_deadline_hours,
                cancellation_label,
            ),
        )
        self.fields["label"].widget.attrs["maxlength"] = 200
        self.fields["duration_minutes"].widget.attrs.update({"min": 5, "max": 480})

    def groups(self) -> list[tuple[str, list]]:
        """The fields in the order a practitioner thinks of them, one fieldset each."""
        return [
            (
                _("The motive"),
                [self[n] for n in ("label", "duration_minutes", "mode", "instructions")],
            ),
            (
                _("Online booking"),
                [
                    self[n]
                    for n in (
                        "online",
                        "open_to_new_patients",
                        "min_notice_minutes",
                        "max_advance_days",
                        "cancellation_deadline_hours",
                    )
                ],
            ),
            (_("Display"), [self[n] for n in ("colour", "position", "is_active")]),
        ]

    def clean_colour(self):
        colour = self.cleaned_data["colour"]
        if not COLOUR.match(colour or ""):
            raise forms.ValidationError(_("Choose a colour such as #2e6fd8."))
        return colour.lower()

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        if not label:
            raise forms.ValidationError(_("Give the motive a name patients understand."))
        return label

    def clean(self):
        data = super().clean()
        notice, advance = data.get("min_notice_minutes"), data.get("max_advance_days")
        if notice is not None and advance is not None and notice >= advance * 1440:
            self.add_error(
                "max_advance_days",
                _(
                    "Patients could never book: “not later than” must be further away than "
                    "“not sooner than”."
                ),
            )
        return data


class OpeningForm(forms.ModelForm):
    motives = ModelMultipleChoiceField(
        queryset=Motive.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Motives offered"),
        error_messages={
            "required": _("Choose at least one motive."),
            "invalid_choice": _("Choose motives of this agenda."),
            "invalid_pk_value": _("Choose motives of this agenda."),
        },
    )

    class Meta:
        model = Opening
        fields = [
            "weekday",
            "start_time",
            "end_time",
            "every_weeks",
            "valid_from",
            "valid_until",
            "site",
            "visibility",
            "motives",
        ]
        labels = {
            "visibility": _("Visible to"),
            "start_time": _("Start"),
            "end_time": _("End"),
            "valid_until": _("Valid until (optional)"),
        }
        help_texts = {
            "every_weeks": _(
                "Every second week counts from the week of “valid from”: the opening falls on "
                "that week, then every other week."
            ),
            "valid_until": _("Leave empty for an opening with no end."),
            "visibility": _(
                "Who is offered its slots. Professionals: other practitioners and regulators "
                "book them for their patients, the public does not see them. Regulation only: "
                "slots kept for the SAS (unscheduled care within 48 hours). CPTS: the members "
                "of a CPTS you belong to and regulation (the SAS) book them. Known patients "
                "only: patients you have already seen, booking online. Your practice always "
                "sees and books every slot."
            ),
        }
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "every_weeks": forms.RadioSelect,
            "visibility": forms.RadioSelect,
        }
        error_messages = {
            "site": {"invalid_choice": _("Choose a site of this organisation.")},
            "visibility": {
                "invalid_choice": _("Choose who may see the slots of this opening."),
                "required": _("Choose who may see the slots of this opening."),
            },
        }
        field_classes = {"valid_from": DateField, "valid_until": DateField}

    def __init__(self, *args, agenda: Agenda, **kwargs):
        super().__init__(*args, **kwargs)
        self.agenda = agenda
        self.fields["site"].queryset = Site.objects.filter(
            organisation_id=agenda.organisation_id
        ).order_by("name")
        self.fields["site"].empty_label = None
        # Alone in a list, a weekday starts with a capital (in a sentence, French writes "lundi").
        self.fields["weekday"].choices = [
            (value, capfirst(label)) for value, label in Opening.Weekday.choices
        ]
        # Not sent (an older form, a script): the opening keeps its visibility, public if new.
        self.fields["visibility"].required = False
        motives = Motive.objects.filter(agenda=agenda).order_by("-is_active", "position", "id")
        self.fields["motives"].queryset = motives
        self.fields["motives"].label_from_instance = _motive_choice_label
        if not self.instance.pk:
            self.initial.setdefault("site", agenda.site_id)
            self.initial.setdefault("valid_from", date.today())
            self.initial.setdefault("motives", [m.pk for m in motives if m.is_active])

    @property
    def when(self) -> list:
        names = ("weekday", "start_time", "end_time", "every_weeks", "valid_from", "valid_until")
        return [self[n] for n in names]

    @property
    def what(self) -> list:
        return [self["site"], self["visibility"], self["motives"]]

    def clean_visibility(self):
        return (
            self.cleaned_data.get("visibility")
            or self.instance.visibility
            or Opening.Visibility.PUBLIC
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The opening must end after it starts."))
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", _("The validity must end on or after its first day."))
        return data


def _motive_choice_label(motive: Motive) -> str:
    details = [f"{motive.duration_minutes} min"]
    if not motive.online:
        details.append(str(_("staff only")))
    if not motive.is_active:
        details.append(str(_("deactivated")))
    return f"{motive.label} ({', '.join(details)})"


class AbsenceForm(forms.Form):
    start_date = DateField(label=_("From (date)"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("From (time, optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Empty: from the start of the day."),
    )
    end_date = DateField(label=_("To (date)"), widget=forms.DateInput(attrs={"type": "date"}))
    end_time = forms.TimeField(
        label=_("To (time, optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Empty: to the end of the day."),
    )
    reason = forms.CharField(
        label=_("Reason (optional, not shown to patients)"), max_length=200, required=False
    )

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            start, end = local_bounds(
                zone=self.zone,
                start_date=data["start_date"],
                start_time=data.get("start_time"),
                end_date=data["end_date"],
                end_time=data.get("end_time"),
            )
        except InvalidInput as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
            return data
        if end <= start:
            self.add_error("end_date", _("The absence must end after it starts."))
        data["start"], data["end"] = start, end
        return data


class ReminderForm(forms.ModelForm):
    class Meta:
        model = ReminderSettings
        fields = ["email_7d", "email_1d", "sms_1d"]


class ExtraPatientsForm(forms.ModelForm):
    """The practitioner's SAS participation: extra patients sent by regulation."""

    class Meta:
        model = Practitioner
        fields = ["takes_extra_patients", "regulation_phone", "extra_patients_weekly_cap"]
        labels = {
            "takes_extra_patients": _(
                "I accept extra patients sent by regulation (“en surnuméraire”)"
            ),
            "regulation_phone": _("Phone for regulators"),
            "extra_patients_weekly_cap": _("At most this many extra patients a week"),
        }
        help_texts = {
            "takes_extra_patients": _(
                "Regulators (SAMU / SAS) may then call you to add a patient beyond your visible "
                "slots, when nothing else is free within 48 hours. You always decide on the "
                "phone."
            ),
            "regulation_phone": _(
                "A direct line regulators call, never shown to patients. Required when you "
                "accept extra patients."
            ),
            "extra_patients_weekly_cap": _(
                "From 1 to 100. Regulators see how many you took this week and stop calling "
                "at this number."
            ),
        }
        widgets = {
            "regulation_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "extra_patients_weekly_cap": forms.NumberInput(attrs={"min": 1, "max": 100}),
        }
        error_messages = {
            "extra_patients_weekly_cap": {
                "invalid": _("Enter a whole number from 1 to 100."),
                "required": _("Enter a whole number from 1 to 100."),
                "min_value": _("Enter a whole number from 1 to 100."),
                "max_value": _("Enter a whole number from 1 to 100."),
            },
        }

    def clean_regulation_phone(self):
        value = (self.cleaned_data.get("regulation_phone") or "").strip()
        if not value:
            return ""
        try:
            return normalise_phone(value)
        except InvalidPhoneNumber:
            raise forms.ValidationError(
                _("Enter a phone number such as 01 23 45 67 89 or +33 1 23 45 67 89.")
            ) from None

    def clean_extra_patients_weekly_cap(self):
        cap = self.cleaned_data.get("extra_patients_weekly_cap")
        if cap is None or not 1 <= cap <= 100:
            raise forms.ValidationError(_("Enter a whole number from 1 to 100."))
        return cap

    def clean(self):
        data = super().clean()
        if (
            data.get("takes_extra_patients")
            and not data.get("regulation_phone")
            and "regulation_phone" not in self.errors
        ):
            self.add_error(
                "regulation_phone",
                _("Give regulators a phone number to call you for extra patients."),
            )
        return data


class PolicyForm(forms.ModelForm):
    class Meta:
        model = PracticePolicy
        fields = ["no_show_limit", "secretaries_manage_absences"]
        widgets = {"no_show_limit": forms.NumberInput(attrs={"min": 1, "max": 99})}

    def clean_no_show_limit(self):
        limit = self.cleaned_data["no_show_limit"]
        if limit is not None and not 1 <= limit <= 99:
            raise forms.ValidationError(_("Enter a number from 1 to 99, or leave empty."))
        return limit
