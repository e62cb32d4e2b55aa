"""Urgent reports to the agency that acts (HP Art. 9.1): the plan for the call and the SMS to the
competent agency's duty phone, queued in the outbox at once whatever happens to the call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ticketing.domain.urgent import UrgentPlan, plan_urgent
from ticketing.notifications.messages import Channel, MessageKind, render
from ticketing.notifications.outbox import NewMessage
from ticketing.notify import ascii_sms

SMS_SUMMARY_CHARS = 300


@dataclass(frozen=True)
class UrgentReport:
    """What the duty officer needs: the report in a few words, where, and whom to call back."""

    category: str
    ward_code: str
    summary: str  # Vietnamese; sent without diacritics
    caller: str = ""  # the caller's number, so the duty officer can call back
    code: str = ""  # the ticket (draft) code, if filed


def duty_sms(phone: str, report: UrgentReport, hotline: str, key: str) -> NewMessage:
    """The SMS to the duty phone; ``key`` (e.g. the call's channel id) makes it one per call."""
    summary = ascii_sms(" ".join(report.summary.split()))[:SMS_SUMMARY_CHARS]
    rendered = render(
        MessageKind.URGENT_DUTY,
        Channel.SMS,
        {"hotline": hotline, "summary": summary, "code": report.code, "caller": report.caller},
    )
    return NewMessage(
        kind=MessageKind.URGENT_DUTY.value,
        channel=Channel.SMS.value,
        recipient=phone,
        subject="",
        body=rendered.body,
        dedupe_key=f"{MessageKind.URGENT_DUTY.value}:{key}:{phone}",
        ticket_code=report.code,
    )


class UrgentDispatch:
    """Decides where an urgent call goes and queues the duty SMS. Blocking (database)."""

    def __init__(
        self,
        duty_for: Callable[[str, str], tuple[str, str]],  # (category, ward) -> (agency, duty phone)
        enqueue: Callable[[NewMessage], object],
        *,
        wait_s: int,
        hotline: str,
    ) -> None:
        self._duty_for = duty_for
        self._enqueue = enqueue
        self.wait_s = wait_s
        self.hotline = hotline

    def dispatch(self, report: UrgentReport, *, operators_on_duty: bool, key: str) -> UrgentPlan:
        agency, phone = self._duty_for(report.category, report.ward_code) if report.category else ("", "")
        plan = plan_urgent(
            operators_on_duty=operators_on_duty, agency=agency, duty_phone=phone, wait_s=self.wait_s
        )
        if plan.sms_to_duty:
            self._enqueue(duty_sms(plan.duty_phone, report, self.hotline, key))
        return plan
