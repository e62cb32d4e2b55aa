"""The reporter's own access to a ticket: a one-time code sent by SMS (through the outbox) to the phone
on the ticket, exchanged for a short grant kept in a cookie, which opens the personal details and the
follow-up (rating, clarification request)."""

from __future__ import annotations

from ticketing.domain.errors import ValidationError
from ticketing.domain.model import Ticket
from ticketing.notifications.outbox import NewMessage
from ticketing.notify import ascii_sms
from ticketing.privacy import mask
from wiring import Services

GRANT_COOKIE = "hotline_theo_doi"
CITIZEN_ACTOR = "citizen:web"


def send_code(services: Services, ticket: Ticket) -> str:
    """Queue a one-time code to the ticket's phone; returns the phone masked for the page."""
    phone = ticket.caller.phone.strip()
    if not phone:
        raise ValidationError(
            "Phiếu này không có số điện thoại nên không thể gửi mã xác minh. "
            f"Vui lòng gọi đường dây nóng {services.settings.notify.hotline_label}."
        )
    code = services.credentials.new_code(ticket.code)
    now = services.clock.now()
    hotline = services.settings.notify.hotline_label
    body = ascii_sms(
        f"{hotline}: Ma xac minh cua ban cho phieu {ticket.code} la {code}. "
        "Ma co hieu luc 10 phut. Khong chia se ma nay cho nguoi khac."
    )
    services.outbox.enqueue(
        NewMessage(
            kind="one_time_code",
            channel="sms",
            recipient=phone,
            subject="",
            body=body,
            dedupe_key=f"one_time_code:{ticket.code}:{now.timestamp():.6f}",
            ticket_code=ticket.code,
        ),
        now,
    )
    return mask(phone)
