import pytest
from django.core.exceptions import ValidationError

from consulto.directory.models import Practitioner, Specialty
from consulto.directory.rpps import luhn_check_digit, luhn_ok, validate_rpps
from tests.conftest import valid_rpps


@pytest.mark.parametrize("value", ["1234567890", "123456789012", "1000000A007", "", "10 000 001"])
def test_an_rpps_without_exactly_eleven_digits_is_a_form_error(value):
    with pytest.raises(ValidationError) as error:
        validate_rpps(value)
    assert "11" in error.value.messages[0]


def test_the_error_speaks_french_by_default():
    with pytest.raises(ValidationError) as error:
        validate_rpps("123")
    assert "chiffres" in error.value.messages[0]


def test_spaces_are_ignored():
    validate_rpps("10 000 000 01 2")


def test_luhn_check_digit_completes_a_valid_number():
    assert luhn_ok("10000000" + "01" + luhn_check_digit("1000000001"))
    assert not luhn_ok("1000000001" + str((int(luhn_check_digit("1000000001")) + 1) % 10))


@pytest.mark.django_db
def test_a_luhn_failure_is_recorded_to_verify_not_refused():
    gp = Specialty.objects.get(code="medecin-generaliste")
    good = valid_rpps(7)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    ok = Practitioner.objects.create(first_name="A", last_name="B", rpps=good, specialty=gp)
    doubtful = Practitioner.objects.create(first_name="C", last_name="D", rpps=bad, specialty=gp)
    assert ok.rpps_status == Practitioner.RppsStatus.VALID
    assert doubtful.rpps_status == Practitioner.RppsStatus.TO_VERIFY


@pytest.mark.django_db
def test_the_reference_list_has_the_french_specialties():
    labels = set(Specialty.objects.values_list("label_fr", flat=True))
    assert len(labels) >= 25
    for expected in ("Médecin généraliste", "Pédiatre", "Sage-femme", "Centre de vaccination"):
        assert expected in labels
