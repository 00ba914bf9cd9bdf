"""Search words as people type them: folded names, specialties by any of their names."""

import pytest
from django.db import connection
from django.utils import translation

from consulto.directory import matching
from consulto.directory.models import Practitioner, Specialty
from consulto.directory.selectors import specialty_index, specialty_labels, text_search
from consulto.directory.services import load_specialties
from tests.conftest import valid_rpps


@pytest.fixture
def index(db):
    load_specialties()
    return specialty_index()


@pytest.mark.parametrize(
    "typed, code",
    [
        ("generaliste", "medecin-generaliste"),
        ("MÉDECIN GÉNÉRALISTE", "medecin-generaliste"),
        ("General practitioner", "medecin-generaliste"),
        ("médecin traitant", "medecin-generaliste"),
        ("dentiste", "chirurgien-dentiste"),
        ("kiné", "kinesitherapeute"),
        ("infirmière", "infirmier"),
        ("ophtalmo", "ophtalmologue"),
        ("oculiste", "ophtalmologue"),
        ("sage femme", "sage-femme"),
        ("cardiolgue", "cardiologue"),
        ("dermatolog", "dermatologue"),
        ("Pédicure", "podologue"),
        ("ORL", "orl"),
    ],
)
def test_a_specialty_is_named_as_people_write_it(index, typed, code):
    assert matching.specialty_named(typed, index).code == code


@pytest.mark.parametrize("typed", ["chirurgien", "martin", "ca", "dr", ""])
def test_text_that_names_no_single_specialty_names_none(index, typed):
    assert matching.specialty_named(typed, index) is None


def test_words_are_folded_without_stop_words_and_at_most_five():
    assert matching.words_of("Dr Éloïse D'ALEMBERT") == ["eloise", "alembert"]
    assert len(matching.words_of("a b c d e f g h i j k")) <= 5


@pytest.fixture
def gp(index):
    return Practitioner.objects.create(
        first_name="Zoé",
        last_name="Saint-Exupéry",
        rpps=valid_rpps(7),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
    )


def test_the_folded_name_follows_every_save_and_bulk_create(gp):
    assert gp.search_name == "zoe st exupery"
    gp.last_name = "Œuvray"
    gp.save()
    gp.refresh_from_db()
    assert gp.search_name == "zoe oeuvray"
    (made,) = Practitioner.objects.bulk_create(
        [
            Practitioner(
                first_name="Noël",
                last_name="Müller",
                rpps=valid_rpps(8),
                specialty_id=gp.specialty_id,
            )
        ]
    )
    assert Practitioner.objects.get(pk=made.pk).search_name == "noel muller"


def test_a_name_is_found_in_any_case_accents_or_saint_spelling(gp):
    for typed in ("exupery", "SAINT-EXUPÉRY", "st exupery", "zoe"):
        assert list(text_search(q=typed).practitioners) == [gp], typed
    assert text_search(q="exupery").approximate == ()


def test_a_misspelt_name_is_found_by_its_spelling_and_said_so(gp):
    found = text_search(q="exupry")
    assert list(found.practitioners) == [gp] and found.approximate == ("exupry",)


def test_postgresql_searches_names_through_a_trigram_index(db):
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = 'practitioner_search_name_trgm'"
            )
            assert cursor.fetchone() is None  # SQLite compares misspelt names in Python
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'practitioner_search_name_trgm'"
        )
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert cursor.fetchone()[0] == "0.45"


def test_the_specialty_labels_follow_a_renamed_specialty_once_committed(
    db, django_capture_on_commit_callbacks
):
    load_specialties()
    assert specialty_labels()["orl"] == "ORL (oto-rhino-laryngologiste)"
    with translation.override("en"):
        assert specialty_labels()["medecin-generaliste"] == "General practitioner"
    ent = Specialty.objects.get(code="orl")
    ent.label_fr = "Oto-rhino-laryngologiste"
    with django_capture_on_commit_callbacks(execute=True):
        ent.save()
    assert specialty_labels()["orl"] == "Oto-rhino-laryngologiste"
