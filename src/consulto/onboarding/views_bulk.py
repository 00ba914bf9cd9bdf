"""Organisation bulk onboarding pages.

For an organisation admin: upload a CSV of practitioners, see every line checked, confirm, then
follow the invitations (and send one again). For the invitee: the invitation link, which opens a
shortened journey (password and authenticator, then the video test and publishing).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

from allauth.mfa.totp.internal.auth import generate_totp_secret
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.core.language import current_language
from consulto.directory.models import DirectoryRecord, Organisation, Site, Specialty
from consulto.practice.access import staff_view
from consulto.practice.files import organisations_of
from consulto.practice.permissions import Perm, check_organisation

from . import bulk, bulk_check, invitations, services
from .bulk_import import ImportRejected, import_practitioners  # by name: a view is bulk_import
from .forms import SecurityForm, SignupForm, terms_label
from .models import Step
from .presets import DEFAULT_HOURS, HOURS_BY_CODE, HOURS_TEMPLATES, MOTIVE_PRESETS
from .views import _progress, _qr_code, log_in_with_second_factor

CHECKED = "onboarding_bulk_checked"
INVITATION_TOTP = "onboarding_invitation_totp"
INVITATIONS_PER_PAGE = 100


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file of the practitioners"),
        help_text=gettext_lazy(
            "One practitioner a line, at most 2,000 lines and 1 MB; columns separated by “;” or "
            "“,”. Start from the example file."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    site = forms.ModelChoiceField(
        label=gettext_lazy("Consultation site of their agendas"),
        queryset=Site.objects.none(),
        empty_label=None,
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(organisation=organisation).order_by(
            "name"
        )


def _organisation(request) -> tuple[Organisation, list[Organisation]]:
    """The organisation the admin works on (``org`` in the query or the form, else their first):
    another organisation is not found, a role that may not invite is forbidden."""
    organisations = organisations_of(request.user, Perm.POLICY)
    wanted = request.POST.get("org") or request.GET.get("org")
    if wanted:
        organisation_id = parse_id(wanted)
        if organisation_id is None:
            raise Http404
        check_organisation(request.user, organisation_id, Perm.POLICY)
        organisation = next((o for o in organisations if o.pk == organisation_id), None)
        if organisation is None:
            raise Http404
        return organisation, organisations
    if not organisations:
        raise PermissionDenied
    return organisations[0], organisations


def _digest(organisation_id: int, site_id: int, lines: list[list]) -> str:
    payload = json.dumps([organisation_id, site_id, lines], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _page(
    request,
    organisation,
    organisations,
    *,
    form=None,
    report=None,
    digest="",
    site=None,
    status=200,
):
    listed = invitations.invitations_of(user=request.user, organisation_id=organisation.pk)
    page = Paginator(listed, INVITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    language = current_language()
    return render(
        request,
        "onboarding/bulk.html",
        {
            "section": "team",
            "organisation": organisation,
            "organisations": organisations,
            "form": form or UploadForm(organisation=organisation),
            "has_sites": Site.objects.filter(organisation=organisation).exists(),
            "report": report,
            "digest": digest,
            "site": site,
            "page": page,
            "invitations": invitations.rows(page.object_list),
            "hours_templates": [(t.code, t.label(language)) for t in HOURS_TEMPLATES],
            "default_hours": DEFAULT_HOURS,
            "presets": _preset_reference(),
        },
        status=status,
    )


def _preset_reference() -> list[tuple[str, str]]:
    labels = {s.code: s.label for s in Specialty.objects.filter(code__in=list(MOTIVE_PRESETS))}
    return [(code, labels[code]) for code in MOTIVE_PRESETS if code in labels]


@staff_view
@never_cache
def bulk_import(request):
    organisation, organisations = _organisation(request)
    if request.method != "POST":
        return _page(request, organisation, organisations)
    form = UploadForm(request.POST, request.FILES, organisation=organisation)
    if not form.is_valid():
        return _page(request, organisation, organisations, form=form)
    report = bulk_check.check_file(form.cleaned_data["file"], organisation=organisation)
    digest = ""
    request.session.pop(CHECKED, None)
    if report.ok:
        # What the confirmation imports is exactly what this page shows: kept here, tied to
        # the hash the confirmation form carries, and checked again at import.
        lines = [line.entry.as_list() for line in report.lines]
        site = form.cleaned_data["site"]
        digest = _digest(organisation.pk, site.pk, lines)
        request.session[CHECKED] = {
            "digest": digest,
            "organisation": organisation.pk,
            "site": site.pk,
            "lines": lines,
        }
    return _page(
        request,
        organisation,
        organisations,
        form=form,
        report=report,
        digest=digest,
        site=form.cleaned_data["site"],
    )


@staff_view
@require_POST
def bulk_confirm(request):
    organisation, organisations = _organisation(request)
    checked = request.session.get(CHECKED) or {}
    if (
        not checked
        or checked.get("digest") != request.POST.get("batch")
        or checked.get("organisation") != organisation.pk
    ):
        messages.error(
            request,
            _(
                "This check is out of date (another file was checked since?): upload the file "
                "again."
            ),
        )
        return redirect(f"{reverse('onboarding:bulk_import')}?org={organisation.pk}")
    site = Site.objects.filter(pk=checked["site"], organisation=organisation).first()
    if site is None:
        raise Http404
    entries = [bulk.Entry.from_list(values) for values in checked["lines"]]
    try:
        imported = import_practitioners(
            user=request.user,
            organisation=organisation,
            site=site,
            entries=entries,
            base_url=settings.CONSULTO_SITE_URL,
            language=current_language(),
        )
    except ImportRejected as rejected:
        request.session.pop(CHECKED, None)
        messages.error(request, str(rejected.message))
        form = UploadForm(organisation=organisation, initial={"site": site})
        return _page(
            request, organisation, organisations, form=form, report=rejected.report, status=409
        )
    request.session.pop(CHECKED, None)
    count = len(imported)
    messages.success(
        request,
        ngettext(
            "%(count)s practitioner imported: their invitation is on its way by e-mail.",
            "%(count)s practitioners imported: their invitations are on their way by e-mail.",
            count,
        )
        % {"count": count},
    )
    return redirect(f"{reverse('onboarding:bulk_import')}?org={organisation.pk}#invitations")


@staff_view
@require_GET
def bulk_example(request):
    """An example file to start from: the header and two lines, ";"-separated with a BOM, as a
    French spreadsheet opens and saves it."""
    _organisation(request)
    french = current_language() == "fr"
    header = (
        ["rpps", "email", "service", "horaires", "motifs"]
        if french
        else [
            "rpps",
            "email",
            "department",
            "opening_template",
            "motives_preset",
        ]
    )
    gp, cardiologist = _example_numbers()
    rows = [
        [gp, "julie.bernardin@example.org", _("General medicine"), "standard", ""],
        [cardiologist, "marc.legrand@example.org", _("Cardiology"), "mornings", "cardiologue"],
    ]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = "consulto-invitations-exemple.csv" if french else "consulto-invitations-example.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _example_numbers() -> tuple[str, str]:
    """The sample directory's GP and cardiologist when the directory holds them (the demo),
    else numbers to replace."""
    from consulto.directory.sample import SAMPLE_CARDIOLOGIST_RPPS, SAMPLE_GP_RPPS

    found = set(
        DirectoryRecord.objects.filter(
            rpps__in=[SAMPLE_GP_RPPS, SAMPLE_CARDIOLOGIST_RPPS]
        ).values_list("rpps", flat=True)
    )
    if found == {SAMPLE_GP_RPPS, SAMPLE_CARDIOLOGIST_RPPS}:
        return SAMPLE_GP_RPPS, SAMPLE_CARDIOLOGIST_RPPS
    return "10000000000", "10000000001"


@staff_view
@require_POST
def invitation_resend(request, invitation_id: int):
    try:
        invitation = invitations.resend(
            user=request.user, invitation_id=invitation_id, base_url=settings.CONSULTO_SITE_URL
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, str(error.message))
        return redirect("onboarding:bulk_import")
    messages.success(
        request,
        _("A new invitation is on its way to %(email)s; the previous link no longer works.")
        % {"email": invitation.email},
    )
    return redirect(
        f"{reverse('onboarding:bulk_import')}?org={invitation.organisation_id}#invitations"
    )


# The invitee ------------------------------------------------------------------------------------


class AcceptForm(forms.Form):
    password = SignupForm.base_fields["password"]
    totp_code = SecurityForm.base_fields["totp_code"]
    terms = SignupForm.base_fields["terms"]

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terms"].label = terms_label()
        self.invitation = invitation

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            practitioner = self.invitation.practitioner
            # Compared with who the account is for (similar to the e-mail or the name: refused).
            person = get_user_model()(
                email=self.invitation.email,
                first_name=practitioner.first_name,
                last_name=practitioner.last_name,
            )
            try:
                validate_password(password, user=person)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


def _totp_secret(request, invitation) -> str:
    kept = request.session.get(INVITATION_TOTP) or {}
    if kept.get("invitation") != invitation.pk:
        kept = {"invitation": invitation.pk, "secret": generate_totp_secret()}
        request.session[INVITATION_TOTP] = kept
    return kept["secret"]


@never_cache
@ratelimit(key="ip", rate="20/h", method="POST", block=False)
def invitation(request, token: str):
    try:
        found = invitations.find_invitation(token)
    except DomainError as error:
        return render(
            request,
            "onboarding/invitation_gone.html",
            {"message": error.message, "code": error.code},
            status=error.status,
        )
    journey = found.journey
    taken = invitations.email_has_account(found.email)
    secret = _totp_secret(request, found)
    form = AcceptForm(request.POST or None, invitation=found)
    if request.method == "GET":
        services.reach(journey, Step.ACCOUNT)
    elif getattr(request, "limited", False):
        form.add_error(None, _("Too many attempts from this connection: try again later."))
    elif not taken and form.is_valid():
        try:
            user = invitations.accept_invitation(
                token=token,
                password=form.cleaned_data["password"],
                totp_secret=secret,
                totp_code=form.cleaned_data["totp_code"],
            )
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, str(error.message))
        else:
            request.session.pop(INVITATION_TOTP, None)
            # The link proved the e-mail; the password was just set and the code checked.
            log_in_with_second_factor(request, user)
            messages.success(
                request,
                _("Welcome to Consulto! Test your camera, then publish your profile."),
            )
            return redirect("onboarding:video")
    agenda = found.agenda
    return render(
        request,
        "onboarding/invitation.html",
        {
            "form": form,
            "invitation": found,
            "organisation": found.organisation,
            "practitioner": found.practitioner,
            "site": found.site,
            "hours_label": HOURS_BY_CODE[found.hours_template or DEFAULT_HOURS].label(
                current_language()
            ),
            "motives": agenda.motives.filter(is_active=True).order_by("position", "id"),
            "taken": taken,
            "secret": secret,
            "qr_code": _qr_code(found.email, secret),
            "journey": journey,
            **_progress(Step.ACCOUNT),
        },
    )
