"""The titular's form to give a delegation to a substitute."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from consulto.core.fields import LocalDateTimeField

from .models import Delegation

LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


class DelegationForm(forms.Form):
    substitute = forms.CharField(
        label=_("Your substitute's RPPS number or e-mail"),
        max_length=254,
        help_text=_("They must already have a practitioner account on Consulto."),
    )
    starts_at = LocalDateTimeField(
        label=_("From"),
        input_formats=LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = LocalDateTimeField(
        label=_("Until"),
        input_formats=LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    scope = forms.ChoiceField(
        label=_("What they may do"),
        choices=Delegation.Scope.choices,
        initial=Delegation.Scope.VIDEO,
        widget=forms.RadioSelect,
    )
