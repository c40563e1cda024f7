import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from core.crypto import DecryptionError, decrypt_text
from core.fields import EncryptedTextField

KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def test_key():
    with override_settings(FIELD_ENCRYPTION_KEY=[KEY]):
        yield


@pytest.fixture
def field():
    return EncryptedTextField(blank=True, null=True)


def test_it_round_trips_through_the_database_representation(field):
    stored = field.get_prep_value("11010519491231002X")
    assert field.from_db_value(stored, None, connection) == "11010519491231002X"


def test_it_stores_a_token_not_the_plaintext(field):
    stored = field.get_prep_value("张三")
    assert stored != "张三"
    assert decrypt_text(stored) == "张三"


def test_it_encrypts_on_save_through_get_db_prep_save(field):
    stored = field.get_db_prep_save("secret", connection)
    assert decrypt_text(stored) == "secret"


@pytest.mark.parametrize("value", [None, ""])
def test_it_passes_none_and_empty_string_through(field, value):
    assert field.get_prep_value(value) == value
    assert field.from_db_value(value, None, connection) == value
    assert field.to_python(value) == value


def test_it_keeps_plaintext_in_python(field):
    assert field.to_python("secret") == "secret"
    assert field.to_python(12345) == "12345"


def test_it_encrypts_non_string_values_as_text(field):
    assert field.from_db_value(field.get_prep_value(12345), None, connection) == "12345"


def test_it_raises_decryption_error_for_a_token_from_an_unknown_key(field):
    with override_settings(FIELD_ENCRYPTION_KEY=[Fernet.generate_key().decode()]):
        stored = field.get_prep_value("secret")
    with pytest.raises(DecryptionError):
        field.from_db_value(stored, None, connection)


def test_it_deconstructs_to_a_stable_path_and_kwargs():
    field = EncryptedTextField(blank=True, null=True, verbose_name="identity number")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "core.fields.EncryptedTextField"
    assert args == []
    assert kwargs == {"blank": True, "null": True, "verbose_name": "identity number"}
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert rebuilt.deconstruct()[1:] == (path, args, kwargs)
