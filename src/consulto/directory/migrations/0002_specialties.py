from django.db import migrations


def load_specialties(apps, schema_editor):
    from consulto.directory.specialties import SPECIALTIES

    Specialty = apps.get_model("directory", "Specialty")
    for ref in SPECIALTIES:
        Specialty.objects.update_or_create(
            code=ref.code,
            defaults={
                "label_fr": ref.label_fr,
                "label_en": ref.label_en,
                "is_resource": ref.is_resource,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(load_specialties, migrations.RunPython.noop)]
