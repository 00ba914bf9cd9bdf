"""Partners of the FHIR facade from the command line: how an operator registers the SAS national
platform (no organisation's admin can), and a way to script an organisation's clients.

    manage.py fhir_partner create --name "Plateforme SAS" --kind sas --scope system/Slot.read
    manage.py fhir_partner create --name "SIH" --kind organisation --organisation 12 \\
        --scope system/Slot.read --scope system/Appointment.write --rate 1200
    manage.py fhir_partner list
    manage.py fhir_partner revoke <client id>

The client secret is printed once, at creation: only its hash is kept.
"""

from django.core.management.base import BaseCommand, CommandError

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.directory.models import Organisation
from consulto.fhir.access import SCOPES
from consulto.fhir.models import Partner
from consulto.fhir.partners import create_partner, revoke_partner

MAX_RATE = 100_000


class Command(BaseCommand):
    help = "Create, list or revoke partners (OAuth2 clients) of the FHIR facade at /fhir/r4/."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a partner; print its id and secret.")
        create.add_argument("--name", required=True)
        create.add_argument("--kind", required=True, choices=[k.value for k in Partner.Kind])
        create.add_argument("--organisation", help="Its organisation's id (kind organisation)")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=list(SCOPES),
            help="A scope it is granted (repeat for several)",
        )
        create.add_argument("--rate", type=int, default=600, help="Requests per minute")
        revoke = actions.add_parser("revoke", help="Revoke a partner: its tokens die at once.")
        revoke.add_argument("client_id")
        actions.add_parser("list", help="List the partners.")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options):
        name = options["name"].strip()
        if not name or len(name) > 200 or "\x00" in name:
            raise CommandError("--name: from 1 to 200 characters.")
        if not 1 <= options["rate"] <= MAX_RATE:
            raise CommandError(f"--rate: from 1 to {MAX_RATE} requests per minute.")
        organisation = None
        if options["kind"] == Partner.Kind.ORGANISATION:
            if options["organisation"] is None:
                raise CommandError("--organisation is required for an organisation's software.")
            wanted = parse_id(options["organisation"])
            organisation = Organisation.objects.filter(pk=wanted).first() if wanted else None
            if organisation is None:
                raise CommandError(f"No organisation with the id {options['organisation']!r}.")
        elif options["organisation"] is not None:
            raise CommandError("The SAS platform belongs to no organisation: drop --organisation.")
        try:
            partner, secret = create_partner(
                name=name,
                kind=options["kind"],
                organisation=organisation,
                scopes=options["scope"],
                rate_per_minute=options["rate"],
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(f"client_id: {partner.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stderr.write("The secret is shown only now: keep it somewhere safe.")

    def _revoke(self, options):
        partner = Partner.objects.filter(application__client_id=options["client_id"]).first()
        if partner is None:
            raise CommandError("No partner has this client id.")
        if not partner.is_active:
            raise CommandError(f"{partner.name} was revoked on {partner.revoked_at:%Y-%m-%d}.")
        revoke_partner(partner)
        self.stdout.write(f"{partner.name} is revoked: its tokens no longer work.")

    def _list(self, options):
        partners = Partner.objects.select_related("application", "organisation").order_by("pk")
        for partner in partners:
            state = "active" if partner.is_active else f"revoked {partner.revoked_at:%Y-%m-%d}"
            owner = partner.organisation.name if partner.organisation else "-"
            self.stdout.write(
                "\t".join(
                    [
                        partner.application.client_id,
                        partner.kind,
                        partner.name,
                        owner,
                        partner.scopes,
                        f"{partner.rate_per_minute}/min",
                        state,
                    ]
                )
            )
