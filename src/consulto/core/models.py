"""The user account shared by patients, staff and support: e-mail is the login."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class AuditEvent(models.Model):
    """One read or write of health data: who, what, when, on whose behalf.

    Never holds the data itself (no note text, no file name): only what was touched. Rows are
    only ever inserted; the organisation admin browses them.
    """

    class Action(models.TextChoices):
        READ = "read", _("Read")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        DOWNLOAD = "download", _("Downloaded")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "core.User",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    on_behalf_of = models.ForeignKey(
        "core.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    target_type = models.CharField(_("what"), max_length=32)
    target_id = models.CharField(max_length=64)
    # Plain ids, not foreign keys: core sits below the apps that own these rows.
    organisation_id = models.BigIntegerField(null=True, db_index=True)
    patient_file_id = models.BigIntegerField(null=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organisation_id", "-at"], name="audit_organisation"),
            models.Index(fields=["patient_file_id", "-at"], name="audit_file"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.target_type}"


class ServerError(models.Model):
    """A request that ended in a server error (500), kept a few days for support: the agent who
    takes a call sees the errors the caller hit in the last 24 hours. Holds the page and the
    exception's type, never its message (it may quote data)."""

    at = models.DateTimeField(_("when"), auto_now_add=True)
    user = models.ForeignKey(
        "core.User",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    method = models.CharField(max_length=8)
    path = models.CharField(_("page"), max_length=300)
    error = models.CharField(_("error"), max_length=120)

    class Meta:
        verbose_name = _("server error")
        verbose_name_plural = _("server errors")
        indexes = [models.Index(fields=["user", "-at"], name="servererror_user")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.method} {self.path} {self.error}"
