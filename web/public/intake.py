"""The one call through which the public doors (the web form, Open311, the REST API) file a report:
the resilient filing path of every channel (:class:`ticketing.filing.ReportFiler`), which parses the
report against the intake contract (:class:`ticketing.intake.NewReport`), files the ticket, and when
the database is down journals it for replay (the tracking code then follows by SMS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticketing.filing import Filed
from ticketing.service import NewAttachment
from wiring import Services


def file_report(
    services: Services, data: Mapping[str, Any], actor: str, attachments: Sequence[NewAttachment] = ()
) -> Filed:
    """File a new report (channel, kind, category, caller, place, content...) as ``actor``."""
    return services.filer.file(data, actor, attachments)
