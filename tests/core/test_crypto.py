import re

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from core.crypto import DecryptionError, decrypt_text, encrypt_text, keyed_hash, rotate_token

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def old_key_only():
    with override_settings(FIELD_ENCRYPTION_KEY=[OLD_KEY], FIELD_HASH_KEY="test-hash-key"):
        yield


def test_it_round_trips_text():
    for plain in ("11010519491231002X", "张三", "", "line\nbreak"):
        assert decrypt_text(encrypt_text(plain)) == plain


def test_it_produces_ciphertext_unlike_the_plaintext():
    token = encrypt_text("11010519491231002X")
    assert token != "11010519491231002X"
    assert "11010519491231002X" not in token


def test_it_produces_a_different_token_each_time():
    assert encrypt_text("same") != encrypt_text("same")


def test_it_decrypts_an_old_token_after_a_new_key_is_added_first():
    token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY, OLD_KEY]):
        assert decrypt_text(token) == "secret"


def test_it_encrypts_with_the_first_key():
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY, OLD_KEY]):
        token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY]):
        assert decrypt_text(token) == "secret"


def test_it_rotates_a_token_to_the_newest_key():
    old_token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY, OLD_KEY]):
        new_token = rotate_token(old_token)
    assert new_token != old_token
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY]):
        assert decrypt_text(new_token) == "secret"
        with pytest.raises(DecryptionError):
            decrypt_text(old_token)


def test_it_refuses_to_rotate_a_token_no_key_opens():
    token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY]), pytest.raises(DecryptionError):
        rotate_token(token)


def test_it_raises_decryption_error_with_the_wrong_key():
    token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=[OTHER_KEY]), pytest.raises(DecryptionError):
        decrypt_text(token)


@pytest.mark.parametrize("token", ["not a token", "", "中文", None])
def test_it_raises_decryption_error_for_garbage(token):
    with pytest.raises(DecryptionError):
        decrypt_text(token)


def test_it_accepts_a_comma_separated_key_string():
    token = encrypt_text("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=f"{NEW_KEY}, {OLD_KEY}"):
        assert decrypt_text(token) == "secret"


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_it_reports_missing_or_invalid_keys_as_misconfiguration(keys):
    with override_settings(FIELD_ENCRYPTION_KEY=keys), pytest.raises(ImproperlyConfigured):
        encrypt_text("secret")


def test_it_hashes_stably_as_hex_sha256():
    digest = keyed_hash("11010519491231002X")
    assert digest == keyed_hash("11010519491231002X")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_it_hashes_case_and_surrounding_space_insensitively():
    assert keyed_hash("11010519491231002x") == keyed_hash(" 11010519491231002X ")


def test_it_hashes_different_values_differently():
    assert keyed_hash("110101199003071233") != keyed_hash("11010519491231002X")


def test_it_hashes_with_the_configured_key():
    digest = keyed_hash("11010519491231002X")
    with override_settings(FIELD_HASH_KEY="another-key"):
        assert keyed_hash("11010519491231002X") != digest


def test_it_keeps_hashes_when_encryption_keys_rotate():
    digest = keyed_hash("11010519491231002X")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW_KEY, OLD_KEY]):
        assert keyed_hash("11010519491231002X") == digest
