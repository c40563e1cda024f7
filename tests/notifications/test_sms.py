"""The SMS backends: the HTTP gateway's request and its failures, and the settings-chosen backend."""

import io
import json
import logging
import urllib.error
from unittest import mock

import pytest

from notifications.sms import (
    ConsoleSmsBackend,
    HttpGatewaySmsBackend,
    LocmemSmsBackend,
    SmsError,
    get_sms_backend,
)


@pytest.fixture
def gateway(settings):
    settings.SMS_GATEWAY_URL = "https://sms.example.com/send"
    settings.SMS_GATEWAY_TOKEN = "secret-token"
    settings.SMS_SIGNATURE = "【LoanTrack】"
    return HttpGatewaySmsBackend()


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, status: int = 200):
        super().__init__(body)
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_the_gateway_posts_json_with_the_bearer_token(gateway):
    with mock.patch("urllib.request.urlopen", return_value=FakeResponse(b'{"id": "msg-42"}')) as urlopen:
        message_id = gateway.send("13812345678", "【LoanTrack】您好")

    assert message_id == "msg-42"
    request = urlopen.call_args.args[0]
    assert urlopen.call_args.kwargs["timeout"] == 10
    assert request.full_url == "https://sms.example.com/send"
    assert request.get_method() == "POST"
    assert request.get_header("Authorization") == "Bearer secret-token"
    assert json.loads(request.data) == {"to": "13812345678", "text": "【LoanTrack】您好", "signature": "【LoanTrack】"}


def test_the_gateway_reports_an_http_error(gateway):
    error = urllib.error.HTTPError("https://sms.example.com/send", 503, "Unavailable", {}, io.BytesIO(b""))
    with mock.patch("urllib.request.urlopen", side_effect=error), pytest.raises(SmsError, match="503"):
        gateway.send("13812345678", "hi")


def test_the_gateway_reports_a_network_error(gateway):
    with (
        mock.patch("urllib.request.urlopen", side_effect=urllib.error.URLError("connection refused")),
        pytest.raises(SmsError, match="unreachable"),
    ):
        gateway.send("13812345678", "hi")


def test_the_gateway_reports_a_reply_without_an_id(gateway):
    with mock.patch("urllib.request.urlopen", return_value=FakeResponse(b"{}")), pytest.raises(SmsError):
        gateway.send("13812345678", "hi")


def test_the_gateway_needs_a_url(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(SmsError, match="SMS_GATEWAY_URL"):
        HttpGatewaySmsBackend().send("13812345678", "hi")


def test_the_console_backend_logs_the_message(caplog):
    with caplog.at_level(logging.INFO, logger="notifications.sms"):
        message_id = ConsoleSmsBackend().send("13812345678", "hello")
    assert message_id.startswith("console-")
    assert "hello" in caplog.text


def test_the_backend_comes_from_settings(settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    assert isinstance(get_sms_backend(), LocmemSmsBackend)
