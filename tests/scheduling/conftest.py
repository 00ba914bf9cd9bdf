"""The practice world (staff, files) serves the tests of the rules at the staff door."""

from tests.practice.conftest import practice  # noqa: F401
