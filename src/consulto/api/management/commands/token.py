from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from consulto.api.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("email")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {options['email']!r}.")
        _token, secret = ApiToken.issue(user, name=options["name"])
        self.stdout.write(secret)
