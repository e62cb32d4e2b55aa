"""Render a :class:`~ticketing.reports.data.Report` as HTML (printable A4, charts embedded as data
URIs), XLSX (one sheet per table) or CSV (the tables one after another)."""

from __future__ import annotations

import base64
import csv
import io
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

import reference
from ticketing.reports.cells import neutralise, neutralise_row
from ticketing.reports.charts import all_charts
from ticketing.reports.data import Report, Table

FORMATS = ("html", "xlsx", "csv")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("ticketing.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _title(report: Report) -> str:
    kind = {"month": "tháng", "quarter": "quý", "year": "năm", "range": "theo yêu cầu"}[report.period.kind]
    return f"Báo cáo {kind} — Tổng đài tiếp nhận phản ánh, kiến nghị"


def html(report: Report) -> str:
    charts = {
        k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in all_charts(report).items()
    }
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            title=_title(report),
            city=reference.CITY_NAMES.get(report.city, report.city),
            report=report,
            tables={t.key: t for t in report.tables()},
            charts=charts,
        )
    )


_SHEETS = {"repeats": "Phản ánh nhiều lần"}  # titles too long for a sheet name (31 characters)


def _sheet_name(table: Table) -> str:
    bad = "[]:*?/\\"
    return "".join(c for c in _SHEETS.get(table.key, table.title) if c not in bad)[:31]


def xlsx(report: Report) -> bytes:
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "Thông tin"
    info.append([_title(report)])
    info["A1"].font = Font(bold=True, size=13)
    info.append(["Kỳ báo cáo", report.period.label])
    info.append(["Địa bàn", reference.CITY_NAMES.get(report.city, report.city) or "Tất cả"])
    info.append(["Đơn vị", neutralise(report.agency or "Tất cả")])
    info.append(["Lĩnh vực", neutralise(report.category or "Tất cả")])
    info.append(["Lập lúc", report.generated_at.strftime("%H:%M %d/%m/%Y")])
    for note in report.notes:
        info.append(["Ghi chú", neutralise(note)])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 60
    head = PatternFill("solid", fgColor="DDE6F2")
    for table in report.tables():
        ws = wb.create_sheet(_sheet_name(table))
        ws.append(neutralise_row(table.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = head
        for row in table.rows:
            ws.append(neutralise_row(row))
        ws.freeze_panes = "A2"
        for i, col in enumerate(table.columns, start=1):
            width = max([len(str(col)), *(len(str(r[i - 1])) for r in table.rows[:200])])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
        if table.note:
            ws.append([])
            ws.append([neutralise(table.note)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [_title(report), report.period.label, report.period.first.isoformat(), report.period.last.isoformat()]
    )
    for table in report.tables():
        w.writerow([])
        w.writerow([f"# {table.title}"])
        w.writerow(neutralise_row(table.columns))
        w.writerows(neutralise_row(row) for row in table.rows)
    return buf.getvalue()


def render(report: Report, fmt: str) -> bytes:
    if fmt == "html":
        return html(report).encode("utf-8")
    if fmt == "xlsx":
        return xlsx(report)
    if fmt == "csv":
        return ("\ufeff" + csv_text(report)).encode("utf-8")  # BOM: Excel opens it as UTF-8
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
