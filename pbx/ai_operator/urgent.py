"""The live call's side of urgent reports (HP Art. 9.1): ask :class:`ticketing.urgent.UrgentDispatch`
for the plan (which queues the duty SMS at once), and turn it into the channel variables that the
dialplan's ``urgent`` extension reads (asterisk-conf/extensions.conf.j2):

- ``HOTLINE_DUTY_DIAL``: the Dial() target for the duty phone over the configured trunk;
- ``HOTLINE_DUTY_WAIT``: seconds at the head of the urgent queue before the duty phone;
- ``HOTLINE_DUTY_NOW``: "1" out of operators' hours: straight to the duty phone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import reference
from nlu.dialogue.draft import Draft
from ticketing.domain.urgent import UrgentPlan, UrgentRoute
from ticketing.urgent import UrgentDispatch, UrgentReport

log = logging.getLogger(__name__)

DIAL_VARIABLE = "HOTLINE_DUTY_DIAL"
WAIT_VARIABLE = "HOTLINE_DUTY_WAIT"
NOW_VARIABLE = "HOTLINE_DUTY_NOW"


def ward_code_of(draft: Draft) -> str:
    if not draft.ward or draft.city not in reference.CITIES:
        return ""
    return next((u.code for u in reference.units(draft.city) if u.name == draft.ward), "")


def report_of(draft: Draft, code: str) -> UrgentReport:
    place = ", ".join(x for x in (draft.address, draft.ward) if x)
    summary = " - ".join(x for x in (draft.content or "(chưa rõ nội dung)", place) if x)
    return UrgentReport(draft.category, ward_code_of(draft), summary, draft.phone or draft.caller_id, code)


def channel_variables(plan: UrgentPlan, endpoint: str) -> dict[str, str]:
    """The dialplan variables for ``plan``; {} when there is no duty phone (operators only)."""
    if plan.route is UrgentRoute.QUEUE or not endpoint:
        return {}
    return {
        DIAL_VARIABLE: f"PJSIP/{plan.duty_phone}@{endpoint}",
        WAIT_VARIABLE: str(plan.wait_s),
        NOW_VARIABLE: "1" if plan.route is UrgentRoute.DUTY else "0",
    }


@dataclass
class UrgentDesk:
    """Built once per app (wiring/calls.py); one :meth:`route` per urgent transfer."""

    dispatch: UrgentDispatch
    endpoint: str  # PJSIP endpoint that dials out (a trunk, or the development trunk)

    async def route(self, draft: Draft, channel_id: str, code: str, *, operators: bool) -> dict[str, str]:
        """Queue the duty SMS and return the channel variables; {} (operators only) on any failure,
        so a database hiccup never keeps the caller from the operators. ``operators``: an operator
        can take the call now (operators' hours, someone logged in; see :mod:`.desk`)."""
        try:
            plan = await asyncio.to_thread(
                self.dispatch.dispatch, report_of(draft, code), operators_on_duty=operators, key=channel_id
            )
        except Exception:
            log.exception("urgent routing of call %s failed; the operators take it", channel_id)
            return {}
        log.warning(
            "urgent call %s: %s (agency %s, duty phone %s)",
            channel_id,
            plan.route.value,
            plan.agency or "-",
            "set" if plan.duty_phone else "none",
        )
        return channel_variables(plan, self.endpoint)
