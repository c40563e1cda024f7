"""Every message template renders in both languages with every placeholder filled."""

from pathlib import Path

import pytest
from django.utils import translation

from notifications.models import OutboxMessage
from notifications.services import _render_message

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "notifications"
CONTEXT = {
    "name": "李明",
    "number": "LA2026000001",
    "amount": "¥100,000.00",
    "reason": "收入证明不清晰。",
    "material": "近6个月银行流水",
    "borrower": "李明",
}
MESSAGE_TEMPLATES = sorted(path.name for path in TEMPLATES.iterdir() if path.is_dir())


@pytest.mark.parametrize("template", MESSAGE_TEMPLATES)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_renders_each_message_template_completely(template, language):
    channels = []
    if (TEMPLATES / template / "sms.txt").exists():
        channels.append(OutboxMessage.Channel.SMS)
    if (TEMPLATES / template / "body.txt").exists():
        channels.append(OutboxMessage.Channel.EMAIL)
    assert channels, f"{template} has neither sms.txt nor body.txt"

    for channel in channels:
        message = OutboxMessage(template=template, channel=channel, language=language, context=CONTEXT)
        subject, text = _render_message(message)
        assert "{{" not in text and "{%" not in text
        assert "李明" in text or "LA2026000001" in text
        if channel == OutboxMessage.Channel.EMAIL:
            assert subject and "\n" not in subject
        with translation.override(language):
            # The Chinese version reads Chinese: at least some CJK characters beyond the placeholders.
            cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text.replace("李明", "").replace("近6个月银行流水", ""))
            cjk = cjk - sum("\u4e00" <= ch <= "\u9fff" for ch in CONTEXT["reason"]) * (CONTEXT["reason"] in text)
            assert (cjk > 5) == (language == "zh-hans"), text
