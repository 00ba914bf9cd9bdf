"""Keep ``Agenda.version`` honest: whatever changes an agenda's availability bumps it.

Bookings bump it in ``booking.py`` (in the same statement that takes the agenda's row lock).
Here: openings, their motives, absences, motives, and the site whose time zone the agenda
uses. The cached slots of ``cache.py`` are keyed by the version, so they are dropped at once.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from consulto.directory.models import Site

from .models import Absence, Agenda, Motive, Opening, bump_versions


def _bump(agenda_ids) -> None:
    ids = [pk for pk in agenda_ids if pk is not None]
    if ids:
        # In the writer's transaction: readers see the new version and the new rows together.
        bump_versions(ids)


@receiver(post_save, sender=Opening)
@receiver(post_delete, sender=Opening)
@receiver(post_save, sender=Absence)
@receiver(post_delete, sender=Absence)
@receiver(post_save, sender=Motive)
@receiver(post_delete, sender=Motive)
def _agenda_part_changed(sender, instance, **kwargs) -> None:
    _bump([instance.agenda_id])


@receiver(m2m_changed, sender=Opening.motives.through)
def _opening_motives_changed(sender, instance, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Opening):
        _bump([instance.agenda_id])


@receiver(post_save, sender=Site)
def _site_changed(sender, instance, created, **kwargs) -> None:
    if not created:
        _bump(Agenda.objects.filter(site=instance).values_list("pk", flat=True))
