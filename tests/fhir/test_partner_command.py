"""``manage.py fhir_partner``: how an operator registers the SAS platform (or any partner), lists
and revokes partners; the secret is printed once and kept only as a hash."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from consulto.fhir.models import Partner

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("fhir_partner", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def created(output: str) -> tuple[Partner, str]:
    lines = dict(line.split(": ", 1) for line in output.strip().splitlines())
    partner = Partner.objects.get(application__client_id=lines["client_id"])
    return partner, lines["client_secret"]


def test_an_operator_registers_the_sas_platform_and_it_gets_a_token(db):
    partner, secret = created(
        run("create", "--name", "Plateforme SAS", "--kind", "sas", "--scope", "system/Slot.read")
    )
    assert partner.kind == Partner.Kind.SAS and partner.organisation is None
    assert partner.scope_set == {"system/Slot.read"} and partner.rate_per_minute == 600
    assert partner.application.client_secret != secret
    assert check_password(secret, partner.application.client_secret)
    token = token_for((partner, secret))
    assert FhirClient(token).get("/fhir/r4/metadata").status_code == 200


def test_an_organisation_partner_with_several_scopes_and_a_rate(world):
    partner, _secret = created(
        run(
            "create", "--name", "SIH", "--kind", "organisation",
            "--organisation", str(world.organisation.pk),
            "--scope", "system/Slot.read", "--scope", "system/Appointment.write", "--rate", "1200",
        )
    )  # fmt: skip
    assert partner.organisation == world.organisation
    assert partner.scope_set == {"system/Slot.read", "system/Appointment.write"}
    assert partner.rate_per_minute == 1200


def test_list_then_revoke(partners):
    listing = run("list")
    for partner, _secret in (partners.own, partners.other, partners.sas):
        assert partner.application.client_id in listing
    assert listing.count("\tactive") == 3
    token = token_for(partners.sas)
    client_id = partners.sas[0].application.client_id
    assert "revoked" in run("revoke", client_id)
    assert FhirClient(token).get("/fhir/r4/metadata").status_code == 401
    assert "revoked" in run("list").splitlines()[-1]
    with pytest.raises(CommandError, match="was revoked"):
        run("revoke", client_id)


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "organisation", "--scope", "system/Slot.read"],  # no organisation
        ["--kind", "organisation", "--organisation", "999999", "--scope", "system/Slot.read"],
        ["--kind", "organisation", "--organisation", str(10**30), "--scope", "system/Slot.read"],
        ["--kind", "organisation", "--organisation", "abc", "--scope", "system/Slot.read"],
        ["--kind", "sas", "--organisation", "1", "--scope", "system/Slot.read"],
        ["--kind", "sas", "--scope", "system/*.*"],
        ["--kind", "sas", "--scope", "system/Slot.read", "--rate", "0"],
        ["--kind", "sas", "--scope", "system/Slot.read", "--rate", str(10**30)],
        ["--kind", "martian", "--scope", "system/Slot.read"],
        ["--kind", "sas"],  # no scope
    ],
)
def test_wrong_arguments_are_refused_without_creating_anything(db, args):
    with pytest.raises((CommandError, SystemExit)):
        run("create", "--name", "X", *args)
    assert not Partner.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 201])
def test_a_wrong_name_is_refused(db, name):
    with pytest.raises(CommandError, match="--name"):
        run("create", "--name", name, "--kind", "sas", "--scope", "system/Slot.read")
    assert not Partner.objects.exists()


def test_revoking_an_unknown_client_says_so(db):
    with pytest.raises(CommandError, match="No partner"):
        run("revoke", "nope")


def test_the_readme_commands_work_as_written(world):
    """The README's "Interoperability" section is the integrators' reference: its commands run."""
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    text = readme.replace("\\\n", " ")
    lines = re.findall(r"^consulto manage fhir_partner (create .+)$", text, re.M)
    assert len(lines) == 2
    for line in lines:
        line = line.replace("--organisation 12", f"--organisation {world.organisation.pk}")
        created(run(*shlex.split(line)))
    assert Partner.objects.filter(kind="sas").count() == 1
    assert Partner.objects.get(name="SIH").rate_per_minute == 1200
