"""The wizard's forms: field checks and plain-language errors; the rules live in services."""

from __future__ import annotations

import re
from datetime import time

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consulto.core.inputs import has_nul, parse_id
from consulto.core.passwords import CnilPasswordValidator
from consulto.directory.models import Practitioner, Specialty
from consulto.directory.rpps import luhn_ok, normalise_rpps, validate_rpps

from .presets import HOURS_TEMPLATES, WEEKDAYS, MotivePreset, Period
from .services import MotiveChoice

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


def terms_label() -> str:
    """The consent box's label, its "terms of use" a link to them (a new tab: the form stays)."""
    link = format_html(
        '<a href="{}" target="_blank" rel="noopener">{}'
        '<span class="visually-hidden"> {}</span></a>',
        reverse("terms"),
        _("terms of use"),
        _("(opens in a new tab)"),
    )
    return format_html(
        _("I accept the {terms} and the processing of my data to run my agenda."), terms=link
    )


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Professional e-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=CnilPasswordValidator().get_help_text(),
    )
    rpps = forms.CharField(
        label=_("RPPS number"),
        max_length=20,
        help_text=_("11 digits, on your professional card (CPS) or your order registration."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    # Shown (as a box to tick) only once the number fails its check digit: see clean().
    rpps_confirmed = forms.BooleanField(
        label=_(
            "This number is mine: continue, and have it checked before my profile is published."
        ),
        required=False,
        widget=forms.HiddenInput,
    )
    terms = forms.BooleanField(
        label=_("I accept the terms of use and the processing of my data to run my agenda."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terms"].label = terms_label()

    def clean_rpps(self) -> str:
        value = normalise_rpps(self.cleaned_data["rpps"])
        validate_rpps(value)
        return value

    def clean(self):
        cleaned = super().clean()
        rpps = cleaned.get("rpps")
        if rpps and not luhn_ok(rpps):
            # Most often a typo, sometimes a real number the check refuses: said now, with a
            # way on, rather than five screens later at "Publish".
            self.fields["rpps_confirmed"].widget = forms.CheckboxInput()
            if not cleaned.get("rpps_confirmed"):
                self.add_error(
                    "rpps",
                    ValidationError(
                        _(
                            "This number does not pass the RPPS check (its last digit does not "
                            "match the others): it looks mistyped. Check it on your "
                            "professional card (CPS). If it is right, tick the box below and "
                            "continue: our team will check it before your profile is published."
                        ),
                        code="rpps_check_digit",
                    ),
                )
        password = cleaned.get("password")
        if password:
            try:
                validate_password(password)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


class SecurityForm(forms.Form):
    email_code = forms.CharField(
        label=_("Code received by e-mail"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "class": "code-input"}
        ),
    )
    totp_code = forms.CharField(
        label=_("Code shown by your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "code-input"}
        ),
    )


SECTOR_CHOICES = [(value, label) for value, label in Practitioner.Sector.choices]


class IdentityForm(forms.Form):
    title = forms.ChoiceField(
        label=_("Title"),
        required=False,
        choices=[("", _("None")), ("Dr", _("Dr")), ("Pr", _("Pr"))],
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput({"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput({"autocomplete": "family-name"}),
    )
    specialty = forms.ModelChoiceField(
        label=_("Profession or specialty"),
        queryset=Specialty.objects.filter(is_resource=False),
        empty_label=_("Choose…"),
    )
    convention_sector = forms.ChoiceField(
        label=_("Convention sector"), choices=SECTOR_CHOICES, required=False
    )
    practice_name = forms.CharField(
        label=_("Practice name"),
        max_length=200,
        help_text=_("As patients will see it, e.g. “Cabinet médical des Lilas”."),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=255,
        widget=forms.TextInput({"autocomplete": "address-line1"}),
    )
    postcode = forms.RegexField(
        label=_("Postcode"),
        regex=r"^\d{5}$",
        error_messages={"invalid": _("A French postcode has 5 digits.")},
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=120, widget=forms.TextInput({"autocomplete": "address-level2"})
    )
    phone = forms.CharField(
        label=_("Practice phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput({"autocomplete": "tel", "inputmode": "tel"}),
    )


def _time_or_none(value: str) -> time | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError as error:
        raise ValidationError(
            _("“%(value)s” is not a time (use 09:00).") % {"value": value}
        ) from error


class ScheduleForm:
    """The week grid (two periods a day) and the motive rows, posted as plain named fields.

    Not a Django form: the rows are dynamic and the grid is a table; it still gives field errors
    by name, in the user's language, and keeps what was typed when something is wrong.
    """

    EXTRA_MOTIVES = 2

    def __init__(self, data=None, *, periods=(), motives=(), template: str = ""):
        self.data = data
        self.errors: list[str] = []
        self.template = template
        self.periods: list[Period] = list(periods)
        self.motives: list[MotiveChoice] = list(motives)

    @staticmethod
    def rows_from_presets(presets: tuple[MotivePreset, ...], language: str) -> list[dict]:
        return [
            {
                "offered": True,
                "label": p.label(language),
                "duration": p.duration_minutes,
                "video": p.video,
                "new_patients": p.new_patients,
                "colour": p.colour,
            }
            for p in presets
        ]

    def grid(self) -> list[dict]:
        """One row per weekday with its two periods, from the posted data or the periods."""
        rows = []
        for day in WEEKDAYS:
            if self.data is not None:
                values = [self.data.get(f"d{day}-{k}", "") for k in ("s1", "e1", "s2", "e2")]
            else:
                mine = sorted((p for p in self.periods if p.weekday == day), key=lambda p: p.start)
                values = []
                for period in mine[:2]:
                    values += [f"{period.start:%H:%M}", f"{period.end:%H:%M}"]
                values += [""] * (4 - len(values))
            rows.append({"day": day, "name": WEEKDAY_NAMES[day], "values": values})
        return rows

    def motive_rows(self, initial: list[dict]) -> list[dict]:
        if self.data is None:
            blank = {"offered": False, "label": "", "duration": 15, "video": False}
            rows = initial + [dict(blank, new_patients=True) for _ in range(self.EXTRA_MOTIVES)]
            return [dict(row, index=i) for i, row in enumerate(rows)]
        count = min(parse_id(self.data.get("motive_count")) or 0, 40)
        return [
            {
                "index": i,
                "offered": self.data.get(f"m{i}-offered") == "on",
                "label": self.data.get(f"m{i}-label", ""),
                "duration": self.data.get(f"m{i}-duration", ""),
                "video": self.data.get(f"m{i}-mode") == "video",
                "new_patients": self.data.get(f"m{i}-new") == "on",
                "colour": self.data.get(f"m{i}-colour", "#2e6fd8"),
            }
            for i in range(count)
        ]

    def is_valid(self) -> bool:
        data = self.data
        self.template = data.get("template", "")
        self.periods = []
        for day in WEEKDAYS:
            for first, last in (("s1", "e1"), ("s2", "e2")):
                try:
                    start = _time_or_none(data.get(f"d{day}-{first}", ""))
                    end = _time_or_none(data.get(f"d{day}-{last}", ""))
                except ValidationError as error:
                    self.errors.extend(error.messages)
                    continue
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.errors.append(
                        str(_("%(day)s: give both the start and the end of each period."))
                        % {"day": WEEKDAY_NAMES[day]}
                    )
                    continue
                self.periods.append(Period(day, start, end))
        self.motives = []
        for row in self.motive_rows([]):
            if not row["offered"]:
                continue
            label = row["label"].strip()
            if has_nul(label):
                self.errors.append(str(ProhibitNullCharactersValidator.message))
                continue
            try:
                duration = int(row["duration"])
            except (TypeError, ValueError):
                duration = 0
            if not label:
                self.errors.append(str(_("Each motive offered needs a name.")))
                continue
            if not 5 <= duration <= 480:
                self.errors.append(
                    str(_("“%(label)s”: a duration is between 5 and 480 minutes."))
                    % {"label": label}
                )
                continue
            colour = row["colour"] if COLOUR.fullmatch(str(row["colour"])) else "#2e6fd8"
            self.motives.append(
                MotiveChoice(label[:200], duration, row["video"], row["new_patients"], colour)
            )
        return not self.errors


TEMPLATE_CHOICES = [(t.code, t) for t in HOURS_TEMPLATES]


class VideoForm(forms.Form):
    enabled = forms.BooleanField(label=_("Offer video consultations"), required=False)
    camera = forms.CharField(required=False, widget=forms.HiddenInput)
    microphone = forms.CharField(required=False, widget=forms.HiddenInput)
    speaker = forms.CharField(required=False, widget=forms.HiddenInput)
    rtt_ms = forms.CharField(required=False, widget=forms.HiddenInput)
    relay = forms.CharField(required=False, widget=forms.HiddenInput)
    relay_ms = forms.CharField(required=False, widget=forms.HiddenInput)
    error = forms.CharField(required=False, widget=forms.HiddenInput)
