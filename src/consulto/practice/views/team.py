"""The team page: an organisation admin sees the staff and assigns secretaries to agendas."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from consulto.core.audit import client_ip
from consulto.core.inputs import parse_id, parse_ids

from .. import team as services
from ..access import staff_view
from ..files import organisations_of
from ..permissions import Perm


@staff_view
def team_page(request):
    organisations = organisations_of(request.user, Perm.POLICY)
    if not organisations:
        raise PermissionDenied
    wanted = request.GET.get("org") or request.POST.get("org")
    organisation = next((o for o in organisations if str(o.pk) == wanted), organisations[0])
    if request.method == "POST":
        services.set_assignments(
            user=request.user,
            organisation_id=organisation.pk,
            secretary_id=parse_id(request.POST.get("secretary")) or 0,
            agenda_ids=parse_ids(request.POST.getlist("agendas"), limit=1000),
            ip=client_ip(request),
        )
        messages.success(request, _("Assignments saved."))
        return redirect(reverse("practice:team") + f"?org={organisation.pk}")
    organisation, members, agendas = services.team(
        user=request.user, organisation_id=organisation.pk
    )
    return render(
        request,
        "practice/team.html",
        {
            "section": "team",
            "organisation": organisation,
            "organisations": organisations,
            "members": members,
            "agendas": agendas,
            "secretary_label": _("Secretary"),
        },
    )


urlpatterns = [path("equipe/", team_page, name="team")]
