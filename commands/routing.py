"""``hotline routing``: rules that pick a ticket's lead agency from its category and ward."""

from __future__ import annotations

import click

from commands.db import actor_option, admin_service, user_errors
from reference import CITIES

city_option = click.option(
    "--city", type=click.Choice(CITIES), default=None, help="City (default: the configured city)."
)


@click.group("routing")
def routing_group() -> None:
    """Routing rules: category x ward -> lead agency, with the city defaults when no rule matches."""


@routing_group.command(
    "add",
    epilog="\b\nExamples:\n  hotline routing add --category DIEN --agency EVN-HN\n"
    "  hotline routing add --category TN --ward 00070 --agency UBND-00070 --priority 5",
)
@click.option("--category", required=True, help="Category code (see data/categories.csv) or '*'.")
@click.option("--ward", default="*", show_default=True, help="Ward/commune code, or '*' for any ward.")
@click.option("--agency", required=True, help="Lead agency code.")
@click.option("--priority", type=int, default=0, show_default=True, help="Breaks ties; higher wins.")
@city_option
@actor_option
def add_cmd(category: str, ward: str, agency: str, priority: int, city: str | None, actor: str) -> None:
    """Add a rule, or replace the rule with the same category and ward."""
    with user_errors():
        rule = admin_service().add_rule(category, ward, agency, actor, city=city or "", priority=priority)
    click.echo(f"{rule.city}: {rule.category} x {rule.ward_code} -> {rule.agency} (priority {rule.priority})")


@routing_group.command("list", epilog="\b\nExample:\n  hotline routing list --city hanoi")
@city_option
def list_cmd(city: str | None) -> None:
    """List the routing rules of a city."""
    with user_errors():
        rules = admin_service().rules(city or "")
    for r in rules:
        click.echo(f"{r.category:<8} {r.ward_code:<6} -> {r.agency:<14} priority {r.priority}")
    click.echo(f"{len(rules)} rules")


@routing_group.command(
    "test",
    epilog="\b\nExamples:\n  hotline routing test --category VSMT --ward 00070\n"
    "  hotline routing test --category DIEN --ward 00070 --city hanoi",
)
@click.option("--category", required=True, help="Category code.")
@click.option("--ward", default="", help="Ward/commune code (empty: unknown).")
@city_option
def test_cmd(category: str, ward: str, city: str | None) -> None:
    """Show which agency would lead a ticket, and why. The last line is the agency code."""
    with user_errors():
        decision = admin_service().test_route(category, ward, city or "")
    click.echo(f"lý do / reason: {decision.reason}")
    for r in decision.matching[1:]:
        click.echo(f"also matched: {r.category} x {r.ward_code} -> {r.agency} (priority {r.priority})")
    click.echo(decision.agency)
