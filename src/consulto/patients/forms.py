"""Forms of the patient pages: search, who the appointment is for, relatives."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import DateField
from consulto.directory import matching
from consulto.directory.models import Practitioner, Specialty
from consulto.directory.selectors import specialty_index
from consulto.scheduling.models import PatientProfile

LANGUAGES = (
    ("", _("Any language")),
    ("fr", _("French")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("de", _("German")),
    ("it", _("Italian")),
    ("pt", _("Portuguese")),
    ("ar", _("Arabic")),
)
WITHIN = (
    ("", _("Any time")),
    ("1", _("Today or tomorrow")),
    ("3", _("Within 3 days")),
    ("7", _("Within a week")),
)
SORTS = (("earliest", _("Earliest availability")), ("distance", _("Distance")))


class SearchForm(forms.Form):
    what = forms.CharField(
        label=_("Specialty or practitioner"),
        required=False,
        max_length=80,
        widget=forms.TextInput(
            attrs={"list": "specialties", "autocomplete": "off", "placeholder": _("e.g. GP")}
        ),
    )
    where = forms.CharField(
        label=_("City or postcode"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    video = forms.BooleanField(label=_("Video consultation"), required=False)
    within = forms.ChoiceField(label=_("Available"), choices=WITHIN, required=False)
    language = forms.ChoiceField(label=_("Spoken language"), choices=LANGUAGES, required=False)
    sector = forms.ChoiceField(
        label=_("Fees"),
        choices=(("", _("Any sector")), *Practitioner.Sector.choices),
        required=False,
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)
    page = forms.IntegerField(min_value=1, max_value=500, required=False)
    # The former form's field, still accepted in shared links: a specialty code.
    specialty = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        data["specialty_code"], data["name"] = self._split_what(
            data.get("what", ""), data.get("specialty", "")
        )
        return data

    @staticmethod
    def _split_what(what: str, code: str) -> tuple[str | None, str | None]:
        """A specialty when the text names one (in either language, as people write it:
        "generaliste", "MÉDECIN GÉNÉRALISTE", "kiné", "dermatolog"), else words to look for
        in names and specialties."""
        what = " ".join(what.split())
        if code and Specialty.objects.filter(code=code).exists():
            return code, what or None
        if not what:
            return None, None
        named = matching.specialty_named(what, specialty_index())
        if named is not None:
            return named.code, None
        return None, what


class SelfForm(forms.ModelForm):
    """The account holder's own identity, asked once at their first booking."""

    class Meta:
        model = PatientProfile
        fields = ["first_name", "last_name", "birth_date", "phone"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "birth_date": forms.DateInput(
                format="%Y-%m-%d", attrs={"type": "date", "autocomplete": "bday"}
            ),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def clean_birth_date(self):
        born = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The birth date cannot be in the future."))
        if born < date(today.year - 125, 1, 1):
            raise forms.ValidationError(_("Please check the birth date."))
        return born

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].split()).replace(".", "")
        digits = phone.removeprefix("+")
        if phone and (not digits.isdigit() or not 9 <= len(digits) <= 15):
            raise forms.ValidationError(_("Enter a phone number such as 06 12 34 56 78."))
        return phone


class RelativeForm(SelfForm):
    """A relative the account books for: a child, a parent, a partner..."""

    class Meta(SelfForm.Meta):
        fields = ["relationship", "first_name", "last_name", "birth_date", "phone", "email"]
        widgets = {
            **SelfForm.Meta.widgets,
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relationship"].choices = [
            c
            for c in PatientProfile.Relationship.choices
            if c[0] != PatientProfile.Relationship.SELF
        ]
        self.fields["relationship"].label = _("This person is")


class WhoForm(forms.Form):
    """Who the appointment is for: one of the account's profiles, or a new relative."""

    NEW = "new"

    patient = forms.ChoiceField(label=_("Who is this appointment for?"), widget=forms.RadioSelect)
    instructions_read = forms.BooleanField(
        label=_("I have read the practitioner's instructions"), required=False
    )

    def __init__(self, *args, profiles, needs_instructions: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(p.pk), _describe(p)) for p in profiles]
        choices.append((self.NEW, _("Someone else (add a relative)")))
        self.fields["patient"].choices = choices
        if len(choices) == 2 and not self.is_bound:
            self.initial["patient"] = choices[0][0]
        self.fields["instructions_read"].required = needs_instructions


def _describe(profile: PatientProfile) -> str:
    if profile.relationship == PatientProfile.Relationship.SELF:
        return _("Me (%(name)s)") % {"name": f"{profile.first_name} {profile.last_name}"}
    return f"{profile.first_name} {profile.last_name} ({profile.get_relationship_display()})"


class WaitlistForm(forms.Form):
    """Tell me if an earlier slot frees up."""

    patient = forms.ChoiceField(label=_("For"))
    before = DateField(
        label=_("Tell me of a slot before"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [(str(p.pk), _describe(p)) for p in profiles]

    def clean_before(self):
        before = self.cleaned_data["before"]
        if before <= timezone.localdate():
            raise forms.ValidationError(_("Choose a date in the future."))
        return before
