"""The one call through which the public doors (the web form, Open311, the REST API) file a ticket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticketing.service import Created, NewAttachment
from wiring import Services


def file_report(
    services: Services, data: Mapping[str, Any], actor: str, attachments: Sequence[NewAttachment] = ()
) -> Created:
    """File a new report (channel, kind, category, caller, place, content...) as ``actor``."""
    return services.tickets.create(data, actor, attachments)
