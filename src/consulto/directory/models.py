"""Who offers care, and where: organisations, sites, practitioners, specialties, memberships."""

from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .folding import FoldedField
from .rpps import luhn_ok, normalise_rpps, validate_rpps


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class Specialty(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    label_fr = models.CharField(_("French label"), max_length=120)
    label_en = models.CharField(_("English label"), max_length=120)
    is_resource = models.BooleanField(_("centre or resource"), default=False)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["label_fr"]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        _forget_specialty_index()

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        _forget_specialty_index()
        return deleted

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr


def _forget_specialty_index() -> None:
    """Searches read the specialties from the cache (``selectors.specialty_index`` and
    ``selectors.specialty_labels``)."""
    _forget("directory:specialty-index:1")
    _forget("directory:specialty-labels:1")


def _forget(key: str) -> None:
    from django.core.cache import cache

    transaction.on_commit(lambda: cache.delete(key))


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PRACTICE = "practice", _("Practice")
        HEALTH_CENTRE = "health_centre", _("Health centre")
        HOSPITAL = "hospital", _("Hospital")
        SCREENING_CENTRE = "screening_centre", _("Screening centre")
        VACCINATION_CENTRE = "vaccination_centre", _("Vaccination centre")
        COVID_CENTRE = "covid_centre", _("COVID consultation centre")
        MSP = "msp", _("Multi-professional health centre (MSP)")
        CPTS = "cpts", _("Territorial community of practitioners (CPTS)")
        REGULATION_CENTRE = "regulation_centre", _("Regulation centre (SAMU)")
        SUPPORT_PROVIDER = "support_provider", _("Support provider")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.PRACTICE)
    finess = models.CharField(_("FINESS number"), max_length=9, blank=True)
    # The département a regulation centre (SAMU 75) or a CPTS serves: "75", "2A", "974".
    territory = models.CharField(
        _("département"), max_length=3, blank=True, default="", db_default=""
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department of a hospital or a centre ("service": cardiologie, pédiatrie...): several
    agendas, its own admins, its own page for patients."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="departments",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    description = models.TextField(_("presentation"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["organisation", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.organisation}"


class Site(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="sites", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=255)
    postcode = models.CharField(_("postcode"), max_length=10, db_index=True)
    city = models.CharField(_("city"), max_length=120, db_index=True)
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    access_details = models.TextField(_("access details"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        indexes = [models.Index(fields=["latitude", "longitude"], name="site_coordinates")]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Practitioner(models.Model):
    class RppsStatus(models.TextChoices):
        VALID = "valid", _("Check digit valid")
        TO_VERIFY = "to_verify", _("To verify")
        VERIFIED = "verified", _("Verified")

    class Sector(models.TextChoices):
        SECTOR_1 = "1", _("Sector 1 (agreed fees)")
        SECTOR_2 = "2", _("Sector 2 (fees with extra charges)")
        SECTOR_3 = "3", _("Not contracted")
        NONE = "", _("Not applicable")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
    )
    title = models.CharField(_("title"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, db_index=True)
    rpps = models.CharField(
        _("RPPS number"), max_length=11, unique=True, validators=[validate_rpps]
    )
    rpps_status = models.CharField(
        _("RPPS status"), max_length=16, choices=RppsStatus.choices, default=RppsStatus.VALID
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.PROTECT,
        related_name="practitioners",
        verbose_name=_("specialty"),
    )
    languages = models.CharField(
        _("languages"), max_length=100, default="fr", help_text=_("ISO codes, comma-separated")
    )
    convention_sector = models.CharField(
        _("convention sector"), max_length=1, choices=Sector.choices, blank=True, default="1"
    )
    accepts_new_patients = models.BooleanField(_("accepts new patients"), default=True)
    video_enabled = models.BooleanField(_("video consultation"), default=False)
    # SAS participation: patients sent by regulation beyond the visible slots ("en surnuméraire").
    takes_extra_patients = models.BooleanField(
        _("accepts extra patients sent by regulation"), default=False, db_default=False
    )
    regulation_phone = models.CharField(
        _("phone for regulators"), max_length=32, blank=True, default="", db_default=""
    )
    extra_patients_weekly_cap = models.PositiveSmallIntegerField(
        _("extra patients per week, at most"),
        default=5,
        db_default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    is_published = models.BooleanField(_("published"), default=True)
    bio = models.TextField(_("presentation"), blank=True)
    # "first last", folded: what name searches compare (a trigram index on PostgreSQL).
    search_name = FoldedField(max_length=201, sources=("first_name", "last_name"))

    class Meta:
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")
        indexes = [models.Index(fields=["specialty", "is_published"], name="practitioner_search")]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        self.rpps = normalise_rpps(self.rpps)
        _forget("directory:name-words:1")  # the words of names that typos are compared with
        if self.rpps_status == self.RppsStatus.VALID and not luhn_ok(self.rpps):
            # A failing check digit is not refused: support confirms the number instead. A number
            # may also be set "to verify" for another reason (not in the directory).
            self.rpps_status = self.RppsStatus.TO_VERIFY
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.rpps = normalise_rpps(self.rpps)
        validate_rpps(self.rpps)

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


class Membership(models.Model):
    """A user's role in an organisation."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Organisation admin")
        PRACTITIONER = "practitioner", _("Practitioner")
        SECRETARY = "secretary", _("Secretary")
        REGULATOR = "regulator", _("Regulating doctor")
        OPERATOR = "operator", _("Unscheduled care operator (OSNP)")
        SUPPORT_AGENT = "support_agent", _("Support agent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    # An admin of one department only (a hospital's "service"), not of the whole organisation.
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("department"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class DirectoryRecord(models.Model):
    """One activity of a health professional in the public directory (Annuaire Santé).

    A person appears once per place of practice, so a row is keyed by (RPPS, structure). The
    table is a read-only copy refreshed by ``directory_import``: self-onboarding looks a
    practitioner up here by RPPS to pre-fill their profile, never the other way round.
    """

    rpps = models.CharField(_("RPPS number"), max_length=11)
    structure_id = models.CharField(
        _("structure identifier"),
        max_length=64,
        help_text=_(
            "The directory's technical identifier of the structure, or a key derived from the "
            "site's name and address when the directory gives none."
        ),
    )
    civility = models.CharField(_("civility"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150)
    profession_code = models.CharField(_("profession code"), max_length=10, blank=True)
    profession_label = models.CharField(_("profession"), max_length=120, blank=True)
    skill_code = models.CharField(_("skill code"), max_length=16, blank=True)
    skill_label = models.CharField(
        _("skill"), max_length=200, blank=True, help_text=_("The directory's “savoir-faire”.")
    )
    specialty_code = models.CharField(
        _("specialty"),
        max_length=64,
        blank=True,
        help_text=_("Consulto's specialty code, blank when the directory's labels do not say."),
    )
    mode = models.CharField(_("practice mode"), max_length=120, blank=True)
    site_name = models.CharField(_("site name"), max_length=255, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    finess = models.CharField(_("FINESS number"), max_length=9, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    import_run = models.PositiveIntegerField(
        _("import run"),
        default=0,
        help_text=_("The last import that found this activity in the directory file."),
    )

    class Meta:
        verbose_name = _("directory record")
        verbose_name_plural = _("directory records")
        constraints = [
            # Also the index of lookups by RPPS: it starts with the RPPS column.
            models.UniqueConstraint(
                fields=["rpps", "structure_id"], name="directoryrecord_unique_activity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rpps} {self.first_name} {self.last_name} — {self.site_name or self.city}"
