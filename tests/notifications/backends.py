"""SMS backends for tests, loaded by dotted path through settings.SMS_BACKEND."""

from notifications.sms import BaseSmsBackend, SmsError


class FailingSmsBackend(BaseSmsBackend):
    """A gateway that refuses every message."""

    def send(self, to: str, text: str) -> str:
        raise SmsError("gateway said no")
