"""What ``consulto demo`` invites a newcomer to try, worked out afresh at each start."""

from consulto.directory.models import DirectoryRecord, Practitioner
from consulto.directory.sample import SAMPLE_GP_RPPS
from consulto.onboarding.models import Journey


def free_onboarding_rpps() -> str | None:
    """An RPPS number of a general practitioner of the sample directory that nobody has used
    yet to sign up (no profile, no sign-up started): the sample's first GP while it is free,
    then the next one, so a restart after a try never offers a number already taken."""
    free = (
        DirectoryRecord.objects.filter(specialty_code="medecin-generaliste")
        .exclude(postcode="")
        .exclude(rpps__in=Practitioner.objects.values("rpps"))
        .exclude(rpps__in=Journey.objects.values("rpps"))
        .values_list("rpps", flat=True)
    )
    if free.filter(rpps=SAMPLE_GP_RPPS).exists():
        return SAMPLE_GP_RPPS
    return free.order_by("rpps").first()
