"""Practitioner names searchable without case, accents or punctuation, and with typos.

Both databases get ``search_name``: first and last name folded by ``directory.folding.fold``,
the function that also folds what patients type. PostgreSQL also gets pg_trgm and a GIN
trigram index on it, which serves both ``LIKE '%word%'`` and the similarity of a misspelt
name (``%>``); SQLite compares misspelt names in Python (``directory.selectors``).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

import consulto.directory.folding

INDEX = "practitioner_search_name_trgm"


def fill(apps, schema_editor):
    from consulto.directory.folding import fold

    Practitioner = apps.get_model("directory", "Practitioner")
    rows = list(Practitioner.objects.only("first_name", "last_name"))
    for row in rows:
        row.search_name = fold(f"{row.first_name} {row.last_name}")[:201]
    Practitioner.objects.bulk_update(rows, ["search_name"], batch_size=2000)


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON directory_practitioner USING gin (search_name gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_practitioner_rpps_status_default")]

    operations = [
        migrations.AddField(
            model_name="practitioner",
            name="search_name",
            field=consulto.directory.folding.FoldedField(
                max_length=201, sources=("first_name", "last_name")
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        TrigramExtension(),
        migrations.RunPython(trigram_index, drop_trigram_index),
    ]
