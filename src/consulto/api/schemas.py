"""Request and response shapes of the REST API."""

from datetime import date, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import field_validator


class ErrorOut(Schema):
    error: str
    message: str
    fields: dict[str, str] | None = None


class SpecialtyOut(Schema):
    code: str
    label: str


class SiteOut(Schema):
    id: int
    name: str
    address: str
    postcode: str
    city: str
    latitude: float
    longitude: float
    timezone: str


class MotiveOut(Schema):
    id: int
    label: str
    duration_minutes: int
    mode: str
    open_to_new_patients: bool


class SlotOut(Schema):
    start: datetime
    end: datetime
    remaining: int


class PractitionerHitOut(Schema):
    id: int
    name: str
    specialty: SpecialtyOut
    languages: list[str]
    convention_sector: str
    accepts_new_patients: bool
    video_enabled: bool
    rpps_status: str
    site: SiteOut
    distance_km: float | None
    agenda_id: int
    motive: MotiveOut
    first_available: datetime | None
    next_slots: list[SlotOut]


class PractitionerSearchOut(Schema):
    count: int
    results: list[PractitionerHitOut]


class AgendaSlotsOut(Schema):
    agenda_id: int
    motive: MotiveOut
    timezone: str
    slots: list[SlotOut]


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("This field cannot be blank.")
    return value


class PatientIn(Schema):
    first_name: str = Field(..., min_length=1, max_length=100)
    last_name: str = Field(..., min_length=1, max_length=100)
    birth_date: date
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)

    _names = field_validator("first_name", "last_name")(_clean_name)

    @field_validator("birth_date")
    @classmethod
    def plausible_birth_date(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise ValueError("Enter a real birth date.")
        return value

    @field_validator("phone")
    @classmethod
    def phone_digits(cls, value: str) -> str:
        value = value.strip()
        digits = value.replace(" ", "").replace(".", "").replace("-", "")
        if value and not (digits.lstrip("+").isdigit() and 6 <= len(digits) <= 16):
            raise ValueError("Enter a phone number, e.g. 06 12 34 56 78.")
        return value

    @field_validator("email")
    @classmethod
    def email_address(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError("Enter a valid e-mail address.") from None
        return value


class AppointmentIn(Schema):
    agenda: int = Field(..., gt=0)
    motive: int = Field(..., gt=0)
    start: datetime
    patient: PatientIn

    @field_validator("start")
    @classmethod
    def aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Give the start with its UTC offset, e.g. 2026-12-01T09:00:00+01:00.")
        return value


class PatientOut(Schema):
    id: int
    first_name: str
    last_name: str


class AppointmentOut(Schema):
    id: int
    agenda_id: int
    practitioner: str | None
    site: SiteOut
    motive: MotiveOut
    patient: PatientOut | None
    start: datetime
    end: datetime
    status: str
    channel: str
    created_at: datetime
    cancelled_at: datetime | None
