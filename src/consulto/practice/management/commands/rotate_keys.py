"""Re-encrypt every note and document with the newest key of CONSULTO_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand

from consulto.practice.files import rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt patient notes and documents with the first key of CONSULTO_ENCRYPTION_KEYS "
        "(put the new key first, run this, then drop the old key)."
    )

    def handle(self, *args, **options) -> None:
        def progress(done: int) -> None:
            if done % 100 == 0:
                self.stdout.write(f"  {done} documents…")

        notes, documents = rotate_keys(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {notes} notes, {documents} documents."))
