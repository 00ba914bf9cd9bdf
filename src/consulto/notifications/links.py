"""Links a message carries that another app makes: the patient's link to a video appointment's
room, and the page of an appointment for a patient without an account (booked for them by a
regulator or a practice).

Notifications sits below teleconsultation (teleconsultation -> practice -> notifications), so it
may not import it: teleconsultation gives its link maker when the apps are ready
(``teleconsultation/apps.py``), and a message about a video appointment asks for it here.
"""

from collections.abc import Callable

from consulto.scheduling.models import Appointment

_makers: dict[str, Callable[[Appointment], str]] = {}


def provide_video_room_link(make: Callable[[Appointment], str]) -> None:
    """``make(appointment)``: the absolute link that opens the room of a video appointment."""
    _makers["video_room"] = make


def video_room_link(appointment: Appointment) -> str:
    """The link to the appointment's video room ("" when no app provides one)."""
    make = _makers.get("video_room")
    return make(appointment) if make else ""


def provide_appointment_page_link(make: Callable[[Appointment], str]) -> None:
    """``make(appointment)``: the absolute signed link to the appointment's own page, where a
    patient without an account sees it and may cancel it (``referral/apps.py`` gives it)."""
    _makers["appointment_page"] = make


def appointment_page_link(appointment: Appointment) -> str:
    """The signed page of the appointment ("" when no app provides one)."""
    make = _makers.get("appointment_page")
    return make(appointment) if make else ""
