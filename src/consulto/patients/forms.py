from django import forms
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Specialty


class SearchForm(forms.Form):
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("All specialties"),
    )
    where = forms.CharField(
        label=_("City or postcode"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    video = forms.BooleanField(label=_("Video consultation"), required=False)
