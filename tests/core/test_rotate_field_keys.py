from io import StringIO

from django.core.management import call_command

from core.fields import EncryptedTextField
from core.management.commands import rotate_field_keys


def test_it_finds_only_encrypted_text_fields():
    for model, field in rotate_field_keys.encrypted_fields():
        assert isinstance(field, EncryptedTextField)
        assert not model._meta.proxy


def test_it_runs_and_reports_zero_rows_when_no_model_has_an_encrypted_field(monkeypatch):
    # Other apps may add encrypted fields later; this test must not need their tables.
    monkeypatch.setattr(rotate_field_keys, "encrypted_fields", lambda: iter(()))
    out = StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "Done: 0 rows re-encrypted." in out.getvalue()
