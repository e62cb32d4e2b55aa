"""Click command groups of the ``hotline`` CLI, one module per group, registered here in help order."""

from __future__ import annotations

import click

from commands.agencies import agencies_group
from commands.agi import agi_group
from commands.api_keys import api_keys_group, tokens_group, webhooks_group
from commands.app import app_group
from commands.asr import asr_group
from commands.backup import backup_group
from commands.calendar import calendar_group
from commands.call import call_group
from commands.calls import calls_group
from commands.chat import chat_command
from commands.cluster import cluster_group
from commands.db import db_group
from commands.dossiers import dossiers_group
from commands.journal import journal_group
from commands.models import models_group
from commands.nlu import nlu_group
from commands.operator_screen import operator_screen_group
from commands.operators import operators_group
from commands.outbox import outbox_group
from commands.pbx import pbx_group
from commands.prompts import prompts_group
from commands.reports import reports_group
from commands.retention import retention_cmd
from commands.routing import routing_group
from commands.scheduler import scheduler_group
from commands.service import service_group
from commands.status import status_cmd
from commands.tickets import tickets_group
from commands.up import down_cmd, up_cmd
from commands.users import users_group
from commands.web import web_group

COMMAND_GROUPS: list[click.Command] = [
    db_group,
    backup_group,
    agencies_group,
    routing_group,
    tickets_group,
    outbox_group,
    api_keys_group,
    tokens_group,
    webhooks_group,
    scheduler_group,
    reports_group,
    retention_cmd,
    models_group,
    asr_group,
    nlu_group,
    calendar_group,
    calls_group,
    chat_command,
    call_group,
    app_group,
    agi_group,
    pbx_group,
    prompts_group,
    operators_group,
    users_group,
    web_group,
    operator_screen_group,
    dossiers_group,
    journal_group,
    up_cmd,
    down_cmd,
    status_cmd,
    service_group,
    cluster_group,
]
