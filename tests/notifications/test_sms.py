import pytest

from consulto.notifications import sms


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("01-23-45-67-89", "+33123456789"),
        ("0692 12 34 56", "+262692123456"),
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_it_normalises_phone_numbers_to_e164(raw, e164):
    assert sms.normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "12", "0612", "+33 06 12 34 56 78", "06 12 34 56 7a"])
def test_it_rejects_what_is_not_a_phone_number(raw):
    with pytest.raises(sms.InvalidPhoneNumber):
        sms.normalise_phone(raw)


def test_the_file_backend_appends_to_the_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.CONSULTO_SMS_BACKEND = "consulto.notifications.sms.FileBackend"
    sms.send_sms("06 12 34 56 78", "Bonjour\nà demain")
    sms.send_sms("0612345679", "Deux")
    lines = (tmp_path / "sms" / "outbox.log").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[1:] for line in lines] == [
        ["+33612345678", "Bonjour à demain"],
        ["+33612345679", "Deux"],
    ]


def test_the_console_backend_prints(settings, capsys):
    settings.CONSULTO_SMS_BACKEND = "consulto.notifications.sms.ConsoleBackend"
    sms.send_sms("+33612345678", "Bonjour")
    assert "+33612345678: Bonjour" in capsys.readouterr().out
