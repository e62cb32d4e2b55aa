"""The delivery adapters (SMS, e-mail) the settings ask for, for the outbox dispatcher."""

from __future__ import annotations

from typing import Any

from config.settings import Settings
from ticketing.notifications.adapters import FileSender, HttpSmsSender, Sender, SmtpSender


def senders(s: Settings) -> dict[str, Sender]:
    """One sender per configured channel; raises :class:`wiring.WiringError` when one is incomplete."""
    from wiring import WiringError

    out: dict[str, Sender] = {}
    n = s.notify
    if n.sms == "file":
        out["sms"] = FileSender(s.data_dir / "outbox" / "sms.jsonl")
    elif n.sms == "http":
        if not n.sms_url:
            raise WiringError("notify.sms = http cần notify.sms_url / needs notify.sms_url")
        kwargs: dict[str, Any] = {"token": n.sms_token}
        if n.sms_body_template:
            kwargs["body_template"] = n.sms_body_template
        out["sms"] = HttpSmsSender(n.sms_url, **kwargs)
    if n.email == "file":
        out["email"] = FileSender(s.data_dir / "outbox" / "email.jsonl")
    elif n.email == "smtp":
        if not (n.smtp_host and n.smtp_sender):
            raise WiringError(
                "notify.email = smtp cần smtp_host và smtp_sender / needs smtp_host and smtp_sender"
            )
        out["email"] = SmtpSender(
            n.smtp_host,
            n.smtp_port,
            sender=n.smtp_sender,
            user=n.smtp_user,
            password=n.smtp_password,
            starttls=n.smtp_starttls,
        )
    # Signed webhook deliveries (``hotline webhooks``): POSTed as queued, HTTP errors retried.
    from ticketing.webhooks import WebhookSender

    out["webhook"] = WebhookSender()
    return out
