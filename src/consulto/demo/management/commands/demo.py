"""``manage.py demo``: load the deterministic demo dataset and print the demo logins."""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from consulto.demo.dataset import (
    DEMO_TOTP_SECRET,
    SAMU_NAME,
    STAFF_LOGINS,
    DemoError,
    generate,
)
from consulto.demo.support_desk import SUPPORT_LOGINS, ensure_support_desk
from consulto.demo.try_it import free_onboarding_rpps
from consulto.demo.video_call import ensure_demo_video_call


class Command(BaseCommand):
    help = (
        "Load deterministic demo data (Faker fr_FR): organisations of every kind, practitioners "
        "with valid RPPS numbers, agendas with about 40 %% of the next 14 days booked and 14 days "
        "of history, and demo logins (password consulto-demo-2026). The same seed always gives "
        "the same data. Idempotent: the database holds one demo dataset at most, and a second "
        "run, with the same or other arguments, adds nothing (run 'manage.py flush' first to "
        "load another size or seed). 10,000 practitioners is about 2 million appointments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--practitioners", type=int, default=60, help="number of practitioners (default 60)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )

    def handle(self, *args, practitioners: int, seed: int, no_progress: bool, **options) -> None:
        try:
            summary = generate(
                practitioners=practitioners,
                seed=seed,
                progress=not no_progress and options.get("verbosity", 1) > 0,
                stdout=self.stdout if options.get("verbosity", 1) > 0 else None,
            )
        except DemoError as error:
            raise CommandError(str(error)) from error

        self._index_availability(progress=not no_progress and options.get("verbosity", 1) > 0)
        style = self.style.SUCCESS if summary.created else self.style.WARNING
        self.stdout.write(style(summary.message))
        self.stdout.write(
            f"Dataset: seed {summary.seed}, {summary.practitioners} practitioners, "
            f"appointments around {summary.today:%Y-%m-%d}"
            + (f", built in {summary.seconds:.1f} s" if summary.created else "")
        )
        if summary.counts:
            self.stdout.write(
                "  " + ", ".join(f"{name}: {count}" for name, count in summary.counts.items())
            )
        self.stdout.write("Demo logins (password for all: " + summary.logins[0].password + "):")
        for login in summary.logins:
            self.stdout.write(f"  {login.email:<28} {login.role}")
        staff = ", ".join(login.email.split("@")[0] for login in STAFF_LOGINS)
        self.stdout.write(
            f"Staff ({staff}) also give an authenticator code: add the secret "
            f"{DEMO_TOTP_SECRET} to an authenticator app, or run `consulto demo-code`."
        )
        self.stdout.write(
            f"Regulation: log in as regulateur@consulto.local ({SAMU_NAME}) and open /regulation/"
            " to find a GP within 48 hours near a Paris postcode (e.g. 75011)."
        )
        ensure_support_desk(seed=seed)
        self.stdout.write("Support desk (same password and authenticator): open /support/ as")
        for login in SUPPORT_LOGINS:
            self.stdout.write(f"  {login.email:<36} {login.role}")
        self.stdout.write("  Anyone logged in asks for help from /aide/ (the “Help” link).")
        rpps = free_onboarding_rpps()
        if rpps:
            self.stdout.write(
                f"Try self-onboarding with RPPS {rpps} (a GP of the sample directory, not used"
                " yet)."
            )
        call = ensure_demo_video_call()
        room = getattr(call, "video_room", None) if call is not None else None
        if room is not None:
            local = timezone.localtime(call.start, call.agenda.site.zone)
            self.stdout.write(
                f"Try a video consultation (today {local:%H:%M}): the patient joins from "
                f"{reverse('appointment', args=[call.pk])} (open 15 minutes before), the "
                f"practitioner from {reverse('visio_practitioner', args=[room.pk])} — two "
                "browsers, or one private window."
            )
            if call.moved:
                self.stdout.write(
                    f"  ({call.moved} appointment(s) of the demo GP moved to a later day to make"
                    " room for it.)"
                )

    def _index_availability(self, *, progress: bool) -> None:
        """Bring the next-availability index up to date (a no-op when it is)."""
        from consulto.scheduling import index

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="next availability", unit="agenda", file=sys.stderr)

        def tick(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        written = index.rebuild(progress=tick)
        if bar is not None:
            bar.close()
        if written:
            self.stdout.write(f"Next-availability index: {written} rows computed.")
