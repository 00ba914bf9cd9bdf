"""Partners: creating one (its OAuth2 client and service account), revoking it.

The client secret is shown once, when the partner is created: django-oauth-toolkit keeps only its
hash. A partner's calls are made under its service account, a user that cannot log in (no usable
password), named after the partner, so every audit trail says which software acted.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application

from consulto.core.errors import InvalidInput

from .access import SCOPES
from .models import Partner


def create_partner(
    *,
    name: str,
    kind: str,
    scopes: list[str] | frozenset[str],
    organisation=None,
    created_by=None,
    rate_per_minute: int = 600,
) -> tuple[Partner, str]:
    """Create a partner; return it and its client secret (shown once, never stored)."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise InvalidInput(_("Choose scopes among: %(scopes)s.") % {"scopes": ", ".join(SCOPES)})
    secret = generate_client_secret()
    with transaction.atomic():
        account = get_user_model().objects.create(
            email=f"partner-{secrets.token_hex(8)}@clients.invalid",
            first_name=name[:150],
            last_name=_("(software)"),
        )
        account.set_unusable_password()
        account.save(update_fields=["password"])
        application = Application.objects.create(
            name=name[:255],
            user=account,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        partner = Partner.objects.create(
            name=name,
            kind=kind,
            organisation=organisation,
            application=application,
            scopes=" ".join(sorted(set(scopes))),
            rate_per_minute=rate_per_minute,
            created_by=created_by,
        )
    return partner, secret


def revoke_partner(partner: Partner, *, now=None) -> None:
    """Stop a partner at once: its tokens are deleted and no new one is issued (its secret no
    longer matches anything, so the token endpoint answers invalid_client)."""
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now()
        )
        Application.objects.filter(pk=partner.application_id).update(
            client_secret=make_password(None)
        )
        AccessToken.objects.filter(application_id=partner.application_id).delete()
