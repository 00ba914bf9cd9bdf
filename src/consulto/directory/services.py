"""Writes to the directory."""

from django.db import transaction

from .models import Specialty
from .specialties import SPECIALTIES


@transaction.atomic
def load_specialties() -> int:
    """Create or refresh the reference specialties; return how many were created."""
    created = 0
    for ref in SPECIALTIES:
        _obj, was_created = Specialty.objects.update_or_create(
            code=ref.code,
            defaults={
                "label_fr": ref.label_fr,
                "label_en": ref.label_en,
                "is_resource": ref.is_resource,
            },
        )
        created += was_created
    return created
