"""The practice world (staff, files) serves the patient-side tests of what staff booked."""

from tests.practice.conftest import practice  # noqa: F401
