"""``hotline api-keys``, ``hotline tokens`` and ``hotline webhooks``: the credentials of the
integration doors (Open311 clients, the REST API) and the outbound webhook subscriptions.

A key or token is printed once, as the last line of the output, and only its digest is stored.
Every change is audited as ``cli:<OS user>``.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import click

from commands.db import require_database, user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from commands.users import os_actor
from ticketing.credentials import Credential, CredentialKind


def _services() -> Any:
    import wiring

    s = settings()
    require_database(s.database_url)
    services = wiring.build(s)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(services.close)
    return services


def _stamp(dt: datetime | None) -> str:
    return dt.isoformat(timespec="minutes") if dt else "-"


def _row(c: Credential, now: datetime) -> dict[str, Any]:
    state = "active" if c.active(now) else ("revoked" if c.revoked_at else "expired")
    return {
        "id": c.id,
        "name": c.name,
        "owner": c.owner,
        "hint": c.hint + "…",
        "state": state,
        "created_at": _stamp(c.created_at),
        "created_by": c.created_by,
        "expires_at": _stamp(c.expires_at),
        "revoked_at": _stamp(c.revoked_at),
    }


def _print_list(kind: CredentialKind, owner: str, as_json: bool) -> None:
    with user_errors():
        svc = _services()
        now = svc.clock.now()
        rows = [_row(c, now) for c in svc.credentials.list(kind, owner)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(không có / none)")
    for r in rows:
        click.echo(
            f"{r['id']:>4}  {r['state']:<8} {r['hint']:<14} {r['name']:<24} {r['owner']:<16} "
            f"tạo {r['created_at']} hết hạn {r['expires_at']}"
        )


# --- api-keys ---------------------------------------------------------------------------------------


@click.group("api-keys")
def api_keys_group() -> None:
    """API keys of Open311 clients (other systems filing reports through /open311/v2).

    \b
    Examples:
      hotline api-keys create --name lgsp-hanoi
      hotline api-keys list
      hotline api-keys revoke 3
    """


@api_keys_group.command("create")
@click.option("--name", required=True, help="The client system's name, e.g. lgsp-hanoi (unique).")
def api_key_create(name: str) -> None:
    """Create an API key; it is printed once, as the last line, and only its digest is kept.

    \b
    Example:
      hotline api-keys create --name lgsp-hanoi
    """
    with user_errors():
        cred, secret = _services().credentials.create(CredentialKind.API_KEY, name, os_actor())
    click.echo(f"API key #{cred.id} for {cred.name} (shown once; keep it secret / chỉ hiện một lần):")
    click.echo(secret)


@api_keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def api_key_list(as_json: bool) -> None:
    """List API keys (their hints only; the keys themselves are not stored)."""
    _print_list(CredentialKind.API_KEY, "", as_json)


@api_keys_group.command("revoke")
@click.argument("key_id", type=int)
def api_key_revoke(key_id: int) -> None:
    """Revoke an API key at once (its id from ``hotline api-keys list``)."""
    with user_errors():
        _services().credentials.revoke(CredentialKind.API_KEY, key_id, os_actor())
    click.echo(f"API key #{key_id} revoked (đã thu hồi)")


# --- tokens -----------------------------------------------------------------------------------------


@click.group("tokens")
def tokens_group() -> None:
    """Personal access tokens of the REST API (/api/v1): a token acts as its staff user, with the
    user's roles and agency, exactly as the portal does.

    \b
    Examples:
      hotline tokens create --user lan.nt --expires 90
      hotline tokens list --user lan.nt
      hotline tokens revoke 7
    """


@tokens_group.command("create")
@click.option("--user", "username", required=True, help="The staff user the token acts as.")
@click.option("--expires", "days", type=click.IntRange(1, 3650), default=None, help="Days until it expires.")
@click.option("--name", default="", help="A label, e.g. the script using it (default: the user name).")
def token_create(username: str, days: int | None, name: str) -> None:
    """Create a personal access token; printed once, as the last line.

    \b
    Example:
      hotline tokens create --user lan.nt --expires 90
    """
    with user_errors():
        svc = _services()
        user = svc.users.get(username)
        if not user.active:
            raise UserError(f"Người dùng {username} đã bị khóa / user {username} is disabled")
        cred, secret = svc.credentials.create(
            CredentialKind.TOKEN,
            name or user.username,
            os_actor(),
            owner=user.username,
            expires_in=timedelta(days=days) if days else None,
        )
    until = f", expires {_stamp(cred.expires_at)}" if cred.expires_at else ""
    click.echo(f"Token #{cred.id} for {cred.owner}{until} (shown once; keep it secret / chỉ hiện một lần):")
    click.echo(secret)


@tokens_group.command("list")
@click.option("--user", "username", default="", help="Only this user's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_list(username: str, as_json: bool) -> None:
    """List access tokens (their hints only)."""
    _print_list(CredentialKind.TOKEN, username, as_json)


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke an access token at once (its id from ``hotline tokens list``)."""
    with user_errors():
        _services().credentials.revoke(CredentialKind.TOKEN, token_id, os_actor())
    click.echo(f"Token #{token_id} revoked (đã thu hồi)")


# --- webhooks ---------------------------------------------------------------------------------------


@click.group("webhooks")
def webhooks_group() -> None:
    """Outbound webhooks: each ticket change is POSTed (JSON, HMAC-SHA256 signed in the
    X-Hotline-Signature header) through the outbox, with retries and a dead-letter list.

    \b
    Examples:
      hotline webhooks add --name lgsp --url https://lgsp.example.gov.vn/hooks/hotline
      hotline webhooks add --name ubnd-hk --url https://hk.example.vn/hook --agency UBND-00070
      hotline webhooks list
      hotline webhooks remove 2
    """


@webhooks_group.command("add")
@click.option("--name", required=True, help="The subscriber's name.")
@click.option("--url", required=True, help="Where to POST (https, at most 200 characters).")
@click.option("--agency", default="", help="Only tickets this agency leads or coordinates.")
def webhook_add(name: str, url: str, agency: str) -> None:
    """Subscribe a URL; the signing secret is printed once, as the last line."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("https", "http") or not parsed.netloc or len(url.strip()) > 200:
        raise UserError(f"URL không hợp lệ / malformed URL (http(s), at most 200 characters): {url!r}")
    if not name.strip():
        raise UserError("Thiếu tên / --name is required")
    with user_errors():
        svc = _services()
        if agency and agency not in {a.code for a in svc.admin.agencies()}:
            raise UserError(f"Không có đơn vị mã {agency!r} / unknown agency {agency!r}")
        secret = "whsec_" + secrets.token_urlsafe(32)
        hook = svc.credential_store.add_webhook(
            name.strip(), url.strip(), secret, agency.strip(), svc.clock.now(), os_actor()
        )
    click.echo(f"Webhook #{hook.id} {hook.name} -> {hook.url}; signing secret (shown once):")
    click.echo(secret)


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def webhook_list(as_json: bool) -> None:
    """List active webhook subscriptions (without their secrets)."""
    with user_errors():
        hooks = _services().credential_store.webhooks()
    rows = [{"id": h.id, "name": h.name, "url": h.url, "agency": h.agency} for h in hooks]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(không có / none)")
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['name']:<20} {r['url']}  {r['agency'] or '(mọi phiếu / all)'}")


@webhooks_group.command("remove")
@click.argument("webhook_id", type=int)
def webhook_remove(webhook_id: int) -> None:
    """Stop a subscription (messages already queued are still delivered)."""
    with user_errors():
        svc = _services()
        if not svc.credential_store.remove_webhook(webhook_id, svc.clock.now(), os_actor()):
            raise UserError(f"Không có webhook số {webhook_id} / no active webhook {webhook_id}")
    click.echo(f"Webhook #{webhook_id} removed")
