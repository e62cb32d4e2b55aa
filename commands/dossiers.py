"""``hotline dossiers``: the local dossier-status table (demo/test) and lookups through the configured
source (the city's TTHC system over HTTP when ``call.dossier_url`` is set, else the table)."""

from __future__ import annotations

from pathlib import Path

import click

from commands.db import services, user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from ticketing.dossiers import DossierLookupError, TableError, parse_table, write_table


@click.group("dossiers")
def dossiers_group() -> None:
    """Dossier status lookup: import the local table, look a code up."""


@dossiers_group.command(
    "import",
    epilog="""\b
Example:
  hotline dossiers import dossiers.csv
The CSV has a header: code,status[,procedure,due_date]  (due_date as YYYY-MM-DD)""",
)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_cmd(csv_file: Path) -> None:
    """Replace the local dossier table with CSV_FILE (validated first; the old table stays on error)."""
    try:
        rows = parse_table(csv_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"Tệp không phải UTF-8 / not a UTF-8 file: {csv_file}") from exc
    except TableError as exc:
        raise UserError(f"{csv_file}: {exc}") from exc
    target = settings().data_dir / "dossiers.csv"
    write_table(target, rows)
    click.echo(f"{len(rows)} hồ sơ / dossiers -> {target}")


@dossiers_group.command("lookup", epilog="Example:\n\n  hotline dossiers lookup 2611200012")
@click.argument("code")
def lookup_cmd(code: str) -> None:
    """Look CODE (full code or its 10-digit tail) up in the configured dossier source."""
    with user_errors():
        source = services(database=False).dossiers
        try:
            found = source.lookup(code)
        except (DossierLookupError, TableError) as exc:
            raise UserError(f"Không tra cứu được / lookup failed: {exc}") from exc
    if found is None:
        raise UserError(f"Không tìm thấy hồ sơ / no dossier {code}")
    click.echo(f"{found.code}\t{found.status}\t{found.procedure}\t{found.due_date}")
