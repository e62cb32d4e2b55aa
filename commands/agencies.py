"""``hotline agencies``: the agencies that lead or coordinate tickets and their contacts."""

from __future__ import annotations

import dataclasses
import json

import click

from commands.db import actor_option, admin_service, user_errors
from commands.errors import load_settings as settings
from reference import CITIES
from ticketing.ports import AGENCY_KINDS, AgencyRecord


@click.group("agencies")
def agencies_group() -> None:
    """Agencies (departments, ward/commune People's Committees, utilities, centres) and their contacts."""


@agencies_group.command(
    "import",
    epilog="\b\nExamples:\n  hotline agencies import\n  hotline agencies import --city haiphong\n"
    "  hotline agencies import --all",
)
@click.option("--city", type=click.Choice(CITIES), default=None, help="City (default: the configured city).")
@click.option("--all", "all_cities", is_flag=True, help="Import the agencies of every supported city.")
@actor_option
def import_cmd(city: str | None, all_cities: bool, actor: str) -> None:
    """Import the agencies shipped with the product (departments and one People's Committee per
    ward/commune). Idempotent: re-running updates names and keeps contacts already set."""
    svc = admin_service()
    cities = list(CITIES) if all_cities else [city or settings().city]
    for c in cities:
        with user_errors():
            inserted, updated = svc.import_agencies(c, actor)
        click.echo(f"{c}: {inserted} added, {updated} updated")


@agencies_group.command(
    "list",
    epilog="\b\nExamples:\n  hotline agencies list --kind department\n"
    "  hotline agencies list --city cantho --json",
)
@click.option("--city", type=click.Choice(CITIES), default=None, help="Only this city.")
@click.option("--kind", type=click.Choice(AGENCY_KINDS), default=None, help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(city: str | None, kind: str | None, as_json: bool) -> None:
    """List agencies with their focal officer."""
    with user_errors():
        rows = admin_service().agencies(city=city or "", kind=kind or "")
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        focal = " ".join(x for x in (r.focal_name, r.focal_phone, r.focal_email) if x) or "-"
        duty = f"  [trực / duty: {r.duty_phone}]" if r.duty_phone else ""
        click.echo(f"{r.code:<14} {r.kind:<15} {r.city:<9} {r.name}  [đầu mối / focal: {focal}]{duty}")
    click.echo(f"{len(rows)} agencies")


@agencies_group.command(
    "add",
    epilog="\b\nExample:\n"
    "  hotline agencies add CTY-TN2 --name 'Công ty Thoát nước số 2' --kind utility --city hanoi",
)
@click.argument("code")
@click.option("--name", required=True, help="Official Vietnamese name.")
@click.option("--kind", type=click.Choice(AGENCY_KINDS), required=True, help="Kind of agency.")
@click.option("--city", type=click.Choice(CITIES), default=None, help="City (default: the configured city).")
@click.option("--ward", "ward_code", default="", help="Ward/commune code, for a People's Committee.")
@actor_option
def add_cmd(code: str, name: str, kind: str, city: str | None, ward_code: str, actor: str) -> None:
    """Add an agency that is not in the shipped lists."""
    rec = AgencyRecord(code, name, kind, city or settings().city, ward_code.strip())
    with user_errors():
        added = admin_service().add_agency(rec, actor)
    click.echo(f"added {added.code}")


def _contact_command(role: str, title: str) -> click.Command:
    @click.command(
        f"set-{role}",
        epilog=f"\b\nExample:\n  hotline agencies set-{role} SO-XD --name 'Trần Thị Bình' "
        "--phone 0243825xxxx --email binh@hanoi.gov.vn",
    )
    @click.argument("code")
    @click.option("--name", default=None, help="Full name.")
    @click.option("--phone", default=None, help="Phone number (for SMS notices).")
    @click.option("--email", default=None, help="E-mail address.")
    @actor_option
    def cmd(code: str, name: str | None, phone: str | None, email: str | None, actor: str) -> None:
        with user_errors():
            rec = admin_service().set_contact(code, actor, role=role, name=name, phone=phone, email=email)
        name_now = getattr(rec, f"{role}_name") or "-"
        click.echo(f"{rec.code}: {title} = {name_now}")

    cmd.help = f"Set the {title} contact of an agency (only the options given change)."
    return cmd


agencies_group.add_command(_contact_command("focal", "focal officer"))
agencies_group.add_command(_contact_command("head", "head"))


@agencies_group.command(
    "set-duty-phone",
    epilog="\b\nExamples:\n  hotline agencies set-duty-phone CA-HP 0912345678\n"
    "  hotline agencies set-duty-phone UBND-11311 '+84 225 3123 456'\n"
    "  hotline agencies set-duty-phone CA-HP ''   (clear it)",
)
@click.argument("code")
@click.argument("phone")
@actor_option
def set_duty_phone_cmd(code: str, phone: str, actor: str) -> None:
    """Set the duty phone of an agency: urgent calls it is competent for are forwarded there when
    no operator answers in time (or out of operators' hours), and their draft is sent there by SMS."""
    with user_errors():
        rec = admin_service().set_duty_phone(code, phone, actor)
    click.echo(f"{rec.code}: duty phone = {rec.duty_phone or '-'}")
