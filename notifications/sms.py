"""SMS backends: a small interface like Django's email backends, chosen by settings.SMS_BACKEND."""

import json
import logging
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("notifications.sms")

# Messages "sent" by LocmemSmsBackend, like django.core.mail.outbox; tests clear it.
outbox: list[dict] = []


class SmsError(Exception):
    """The provider refused the message or could not be reached."""


class BaseSmsBackend:
    """Send one text message; return the provider's message id or raise SmsError."""

    def send(self, to: str, text: str) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: write the message to the log instead of sending it."""

    def send(self, to: str, text: str) -> str:
        message_id = f"console-{uuid.uuid4()}"
        logger.info("SMS to %s (%s): %s", to, message_id, text)
        return message_id


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keep the message in `notifications.sms.outbox`."""

    def send(self, to: str, text: str) -> str:
        message_id = f"locmem-{uuid.uuid4()}"
        outbox.append({"id": message_id, "to": to, "text": text})
        return message_id


class HttpGatewaySmsBackend(BaseSmsBackend):
    """POST JSON {"to", "text", "signature"} to settings.SMS_GATEWAY_URL; the reply's "id" is the message id."""

    timeout = 10

    def send(self, to: str, text: str) -> str:
        url = settings.SMS_GATEWAY_URL
        if not url:
            raise SmsError("SMS_GATEWAY_URL is not set")
        payload = json.dumps({"to": to, "text": text, "signature": settings.SMS_SIGNATURE}).encode()
        request = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SmsError(f"SMS gateway replied HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"SMS gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise SmsError(f"SMS gateway replied HTTP {status}")
        try:
            reply = json.loads(raw or b"{}")
        except ValueError as exc:
            raise SmsError("SMS gateway replied with invalid JSON") from exc
        message_id = reply.get("id") if isinstance(reply, dict) else None
        if not message_id:
            raise SmsError("SMS gateway reply has no message id")
        return str(message_id)


def get_sms_backend() -> BaseSmsBackend:
    """An instance of the backend named by settings.SMS_BACKEND (read on every call so tests can override it)."""
    return import_string(settings.SMS_BACKEND)()
