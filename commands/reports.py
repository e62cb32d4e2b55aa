"""``hotline reports``: monthly, quarterly, yearly and on-demand reports (HN Art. 11, 12.7; SPEC §3) as
printable HTML with charts, XLSX (one sheet per table) or CSV."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from commands.db import admin_service, services, user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from reference import CITIES
from ticketing.ports import SystemClock
from ticketing.reports import periods
from ticketing.reports.periods import Period, PeriodError


def _options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["html", "xlsx", "csv"]),
        default="html",
        show_default=True,
        help="Output format.",
    )(f)
    f = click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Output file (default: bao-cao-<period>.<format> in the current folder; '-' = stdout for csv).",
    )(f)
    f = click.option("--agency", default="", help="Only tickets led by this agency code.")(f)
    f = click.option("--category", default="", help="Only tickets of this category code.")(f)
    f = click.option(
        "--city", type=click.Choice(CITIES), help="City whose tickets to count (default: the configured one)."
    )(f)
    return f


def _run(period: Period, fmt: str, out: Path | None, agency: str, category: str, city: str | None) -> None:
    from ticketing.db.reports import STEPS, Filters, compute
    from ticketing.reports.render import render

    s = settings()
    if out is not None and str(out) == "-" and fmt != "csv":
        raise UserError("chỉ CSV mới in ra màn hình được / only csv can go to stdout; use --out FILE")
    root = services()
    filters = Filters(city=city or s.city, agency=agency.strip(), category=category.strip().upper())
    _check_filters(filters)
    with (
        user_errors(),
        root.session_factory() as session,
        click.progressbar(
            length=len(STEPS) + 1,
            label="Tổng hợp số liệu / aggregating",
            file=sys.stderr,
        ) as bar,
    ):

        def advance(_step: str) -> None:
            bar.update(1)

        report = root.with_learning(compute(session, period, filters, SystemClock().now(), progress=advance))
        data = render(report, fmt)
        bar.update(1)
    if out is not None and str(out) == "-":
        if fmt != "csv":
            raise UserError("chỉ CSV mới in ra màn hình được / only csv can go to stdout; use --out FILE")
        click.echo(data.decode("utf-8-sig"), nl=False)
        return
    target = out or Path(f"bao-cao-{period.kind}-{period.slug}.{fmt}")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise UserError(f"không ghi được tệp {target} / cannot write {target}: {exc.strerror}") from exc
    flagged = len(report.flagged_agencies)
    click.echo(
        f"{target}: {report.tickets.received} tickets, {report.calls.received} calls, "
        f"{flagged} agencies over 30 % late, {len(report.repeats)} repeated issues"
    )


def _check_filters(filters: Any) -> None:
    """A mistyped agency or category is an error, not an empty report."""
    import reference

    if filters.category and filters.category not in reference.categories():
        raise UserError(
            f"Lĩnh vực không hợp lệ: {filters.category!r} / unknown category {filters.category!r}"
        )
    if filters.agency:
        with user_errors():
            known = {a.code for a in admin_service().agencies(city=filters.city)}
        if filters.agency not in known:
            raise UserError(
                f"Không có đơn vị mã {filters.agency!r} ở {filters.city} / "
                f"unknown agency {filters.agency!r} in {filters.city}"
            )


def _period(make: Callable[[], Period]) -> Period:
    try:
        return make()
    except PeriodError as exc:
        raise UserError(str(exc)) from exc


@click.group("reports")
def reports_group() -> None:
    """Reports for the city: calls, tickets, deadlines, agencies, categories, wards, Art. 12.7 flags."""


@reports_group.command(
    "monthly",
    epilog="\b\nExamples:\n  hotline reports monthly --month 2026-10\n"
    "  hotline reports monthly --month 2026-10 --format xlsx --out thang10.xlsx",
)
@click.option("--month", required=True, help="Month as YYYY-MM, e.g. 2026-10.")
@_options
def monthly_cmd(month: str, **kw: Any) -> None:
    """The monthly report (due before the 25th of the next month, HN Art. 11.3)."""
    _run(_period(lambda: periods.month(month)), **kw)


@reports_group.command(
    "quarterly", epilog="\b\nExample:\n  hotline reports quarterly --quarter 2026Q3 --format html"
)
@click.option("--quarter", required=True, help="Quarter as YYYYQn, e.g. 2026Q3.")
@_options
def quarterly_cmd(quarter: str, **kw: Any) -> None:
    """The quarterly report."""
    _run(_period(lambda: periods.quarter(quarter)), **kw)


@reports_group.command("yearly", epilog="\b\nExample:\n  hotline reports yearly --year 2026 --format xlsx")
@click.option("--year", required=True, help="Year, e.g. 2026.")
@_options
def yearly_cmd(year: str, **kw: Any) -> None:
    """The yearly report."""
    _run(_period(lambda: periods.year(year)), **kw)


@reports_group.command(
    "range",
    epilog="\b\nExample:\n  hotline reports range --from 2026-10-01 --to 2026-10-15 --format csv --out -",
)
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, help="Last day (included), YYYY-MM-DD.")
@_options
def range_cmd(first: str, last: str, **kw: Any) -> None:
    """A report over any range of days."""
    _run(_period(lambda: periods.date_range(first, last)), **kw)
