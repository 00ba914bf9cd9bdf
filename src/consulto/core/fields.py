"""Form fields that read dates and times by the rules of ``core.time``: every form of the site
uses these rather than Django's own, so that a year 0001 or 9999 is a form error, and a local
time skipped by the clocks is refused with the same message everywhere."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput
from .inputs import MAX_ID, parse_id
from .time import FIRST_YEAR, LAST_YEAR, is_plausible_date, wall_to_instant


def plausible_date(value) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not is_plausible_date(day):
        raise ValidationError(
            _("Choose a date between %(first)s and %(last)s."),
            code="implausible_date",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


class DateField(forms.DateField):
    default_validators = [plausible_date]


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed on the wall clock of the current time zone (``timezone.override``
    sets it to the place's zone), turned into an instant by ``core.time.wall_to_instant``."""

    default_validators = [plausible_date]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            naive = timezone.make_naive(value) if timezone.is_aware(value) else value
        else:
            naive = BaseTemporalField.to_python(self, value)
        if not is_plausible_date(naive.date()):
            plausible_date(naive)
        try:
            return wall_to_instant(naive.date(), naive.time(), timezone.get_current_timezone())
        except InvalidInput as error:
            raise ValidationError(str(error.message), code=error.code) from error

    def strptime(self, value, format):
        return datetime.strptime(value, format)


class IdField(forms.IntegerField):
    """An id of a row: a positive integer that fits the database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, but an id the database cannot hold is an invalid choice, not a query that
    overflows (SQLite's integers stop at 64 bits)."""

    def _check_values(self, value):
        for pk in value:
            if parse_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)
