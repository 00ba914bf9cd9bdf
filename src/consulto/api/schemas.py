"""Request and response shapes of the REST API.

Requests are plain pydantic models that forbid unknown fields and take only a JSON object (a
ninja ``Schema`` would read ``false`` or ``[1]`` as an object with every field at its default);
their fields use the bounded, NUL-refusing types of ``types.py``.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, field_validator

from .types import AwareDatetime, BodyId, IsoDay, Text


class RequestBody(BaseModel):
    """A JSON object with these fields and no other."""

    model_config = ConfigDict(extra="forbid")


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


class PatientIn(RequestBody):
    first_name: Text = Field(..., min_length=1, max_length=100)
    last_name: Text = Field(..., min_length=1, max_length=100)
    birth_date: IsoDay
    phone: Text = Field("", max_length=32)
    email: Text = Field("", max_length=254)

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


class AppointmentIn(RequestBody):
    agenda: BodyId
    motive: BodyId
    start: AwareDatetime
    patient: PatientIn
    # The motive's follow-up, booked with it (both or neither): a slot of the follow-up motive
    # on its due day (start + follow_up_after_days) or up to a week later.
    follow_up_start: AwareDatetime | None = None


class CancelIn(RequestBody):
    reason: Text = Field("", max_length=255)


class FollowUpOut(Schema):
    id: int
    agenda_id: int
    motive_id: int
    start: datetime
    end: datetime


class PatientOut(Schema):
    id: int
    first_name: str
    last_name: str


class AppointmentOut(Schema):
    id: int
    # The follow-up booked with it in the same request, if any.
    follow_up: FollowUpOut | None = None
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
