"""Rendering the Asterisk configuration from the Jinja2 templates in ``asterisk-conf/``.

Every value is validated before it reaches a template, and the Jinja2 environment refuses (through
``finalize``) any value with a line break or NUL, so that no setting or database row can inject a
config line, a section or a comment. Templates use ``StrictUndefined``: a missing value is an error,
never an empty string. Secrets come from settings and placeholders are refused.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from config.settings import Settings, SettingsError, TrunkSettings, require_secret
from pbx.fallback_calls import JOURNAL_NAME as FALLBACK_JOURNAL
from pbx.install import AsteriskLayout
from ticketing.operators import REALM, OperatorEndpoint, OperatorError, validate_display_name, validate_name

LOOPBACK = "127.0.0.1"
QUEUE_TIMEOUT_S = 900
MIN_SECRET_LENGTH = 12

# Modules the hotline cannot work without: Asterisk refuses to start if one is missing.
REQUIRED_MODULES: tuple[str, ...] = (
    "res_timing_timerfd.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",  # needed by chan_pjsip
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_registrar.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_header_funcs.so",
    "res_pjsip_nat.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_rfc3326.so",
    "chan_pjsip.so",
    "res_rtp_asterisk.so",
    "bridge_simple.so",
    "bridge_softmix.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    "bridge_builtin_features.so",
    "codec_alaw.so",
    "codec_ulaw.so",
    "codec_a_mu.so",
    "codec_resample.so",
    "format_wav.so",
    "format_pcm.so",
    "format_sln.so",
    "res_http_websocket.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "res_stasis_device_state.so",
    "res_ari.so",
    "res_ari_model.so",
    "res_ari_applications.so",
    "res_ari_asterisk.so",
    "res_ari_bridges.so",
    "res_ari_channels.so",
    "res_ari_device_states.so",
    "res_ari_endpoints.so",
    "res_ari_events.so",
    "res_ari_playbacks.so",
    "res_ari_recordings.so",
    "res_ari_sounds.so",
    "app_stasis.so",
    "res_audiosocket.so",
    "chan_audiosocket.so",
    "app_audiosocket.so",
    "res_rtp_multicast.so",  # needed by chan_rtp
    "chan_rtp.so",
    "chan_bridge_media.so",
    "app_queue.so",
    "app_mixmonitor.so",
    "res_speech.so",  # needed by res_agi
    "res_agi.so",
    "app_playback.so",
    "app_dial.so",
    "app_echo.so",
    "app_stack.so",
    "app_exec.so",  # ExecIf in the operator predial (X-Hotline-Draft header)
    "app_userevent.so",
    "app_verbose.so",
    "app_read.so",
    "app_senddtmf.so",
    "app_playtones.so",
    "pbx_config.so",
    "func_strings.so",
    "func_logic.so",
    "func_channel.so",
    "func_callerid.so",
    "func_cut.so",
    "func_math.so",
    "func_uuid.so",
    "func_global.so",
    "func_timeout.so",
    "func_env.so",  # FILE(): the fallback-call journal
    "func_pjsip_endpoint.so",
    "func_devstate.so",
)
# Useful, but the hotline still takes calls without them.
OPTIONAL_MODULES: tuple[str, ...] = (
    "res_curl.so",
    "res_http_media_cache.so",
    "res_statsd.so",
    "chan_websocket.so",
    "res_websocket_client.so",
    "res_pjsip_logger.so",
    "res_pjsip_acl.so",
    "res_security_log.so",
    "res_clioriginate.so",
    "app_originate.so",
    "res_manager_devicestate.so",
)

TEMPLATE_DIR_ENV = "HOTLINE_ASTERISK_TEMPLATES"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
NUMBER_RE = re.compile(r"^[0-9]{2,15}$")
TZ_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$")
AGI_URL_RE = re.compile(r"^agi://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9_./-]*)?$")
SECRET_FORBIDDEN = frozenset(';"\\[]')


class RenderError(ValueError):
    """A setting or database value that cannot go into the Asterisk configuration."""


@dataclass(frozen=True)
class TrunkView:
    """A trunk as the template sees it: validated, with ``register`` decided."""

    name: str
    host: str
    match: tuple[str, ...]
    username: str
    password: str

    @property
    def register(self) -> bool:
        return bool(self.username)


def find_templates(folder: str, env_var: str) -> Path:
    """A template folder (``asterisk-conf``, ``kamailio-conf``) at the repository root or the working
    directory, or wherever ``$env_var`` points."""
    explicit = os.environ.get(env_var)
    if explicit:
        return Path(explicit)
    for candidate in (Path(__file__).resolve().parents[1] / folder, Path.cwd() / folder):
        if candidate.is_dir():
            return candidate
    raise RenderError(f"{folder}/ templates not found; set {env_var}")


def template_dir() -> Path:
    """``asterisk-conf/`` at the repository root (or ``$HOTLINE_ASTERISK_TEMPLATES``)."""
    return find_templates("asterisk-conf", TEMPLATE_DIR_ENV)


def template_names(directory: Path | None = None) -> list[str]:
    return sorted(p.name for p in (directory or template_dir()).glob("*.conf.j2"))


def _finalize(value: Any) -> Any:
    """Last line of defence: nothing rendered into a config file may start a new line.

    Checks the text every value turns into (paths, numbers and objects too, not only strings).
    """
    text = value if isinstance(value, str) else str(value)
    if any(ch in text for ch in "\r\n\0"):
        raise RenderError(f"refusing to render a value with a line break or NUL: {text[:40]!r}")
    return value


def environment(directory: Path | None = None) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or template_dir())),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Asterisk config, not HTML: values are validated instead
    )


def _no_newline(value: str, field: str) -> None:
    if any(ch in value for ch in "\r\n\0"):
        raise RenderError(f"{field} contains a line break or NUL (giá trị cấu hình chứa ký tự xuống dòng)")


def check_name(value: str, field: str) -> str:
    _no_newline(value, field)
    if not NAME_RE.match(value):
        raise RenderError(f"{field} {value!r} must be letters, digits, '.', '_' or '-' (at most 40)")
    return value


def check_timezone(value: str, field: str) -> str:
    """An IANA zone name Asterisk can look up (``STRFTIME``'s zone argument; no commas or spaces)."""
    _no_newline(value, field)
    if not TZ_RE.match(value):
        raise RenderError(f"{field} {value!r} is not a time zone name like Asia/Ho_Chi_Minh")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise RenderError(f"{field}: unknown time zone {value!r}") from exc
    return value


def check_secret(value: str, field: str) -> str:
    try:
        require_secret(value, field)
    except SettingsError as exc:
        raise RenderError(str(exc)) from exc
    if len(value) < MIN_SECRET_LENGTH:
        raise RenderError(f"{field} is shorter than {MIN_SECRET_LENGTH} characters")
    if value != value.strip() or any(ch in SECRET_FORBIDDEN or not ch.isprintable() for ch in value):
        raise RenderError(f'{field} contains whitespace or one of ; " \\ [ ] (not allowed in configs)')
    return value


def check_port(value: int, field: str) -> int:
    if not 1 <= value <= 65535:
        raise RenderError(f"{field} {value} is not a port number")
    return value


def check_ip(value: str, field: str) -> str:
    _no_newline(value, field)
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise RenderError(f"{field} {value!r} is not an IP address") from exc
    return value


DEV_TRUNK_WARNING = (
    "CẢNH BÁO / WARNING: trung kế phát triển đang bật — Asterisk nhận cuộc gọi không xác thực từ "
    "127.0.0.1 / the development trunk is ON: Asterisk accepts unauthenticated calls from 127.0.0.1. "
    'Set environment = "production" (or pbx.dev_trunk = false) before serving citizens.'
)


def dev_trunk_enabled(settings: Settings) -> bool:
    """Whether the unauthenticated local trunk is rendered; refused outright in production."""
    wanted = settings.pbx.dev_trunk
    if settings.environment == "production":
        if wanted:
            raise RenderError(
                "pbx.dev_trunk accepts unauthenticated calls and is refused when environment = production "
                "(trung kế phát triển không được phép khi chạy thật); remove it or set it to false"
            )
        return False
    return wanted is None or wanted


def check_loopback(value: str, field: str) -> str:
    """ARI, AMI and AudioSocket carry secrets and audio unencrypted: loopback addresses only."""
    check_ip(value, field)
    if not ipaddress.ip_address(value).is_loopback:
        raise RenderError(f"{field} {value!r} must be a loopback address (127.x.x.x or ::1)")
    return value


def check_trunk(trunk: TrunkSettings) -> TrunkView:
    name = check_name(trunk.name, "trunk name")
    _no_newline(trunk.host, f"trunk {name} host")
    if not HOST_RE.match(trunk.host):
        raise RenderError(f"trunk {name}: host {trunk.host!r} is not a host or host:port")
    nets: list[str] = []
    for entry in trunk.match:
        _no_newline(entry, f"trunk {name} match")
        try:
            nets.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError as exc:
            raise RenderError(f"trunk {name}: match {entry!r} is not an IP address or network") from exc
    if bool(trunk.username) != bool(trunk.password):
        raise RenderError(f"trunk {name}: set both username and password to register, or neither")
    if trunk.username:
        check_name(trunk.username, f"trunk {name} username")
        check_secret(trunk.password, f"trunk {name} password")
    if not nets and not trunk.username:
        raise RenderError(f"trunk {name}: give source IPs (match) or a registration (username/password)")
    return TrunkView(name, trunk.host, tuple(nets), trunk.username, trunk.password)


def check_operator(op: OperatorEndpoint) -> OperatorEndpoint:
    try:
        validate_name(op.name)
        validate_display_name(op.display_name)
    except OperatorError as exc:
        raise RenderError(str(exc)) from exc
    if not re.fullmatch(r"[0-9a-f]{32}", op.password_md5):
        raise RenderError(f"operator {op.name}: stored password digest is malformed")
    return op


def system_name(instance: str) -> str:
    """Asterisk's ``systemname`` for an instance; every channel id (uniqueid) of it starts with this."""
    return f"hotline-{instance}"


def build_context(
    settings: Settings, layout: AsteriskLayout, operators: Sequence[OperatorEndpoint]
) -> dict[str, Any]:
    """Validate everything and return the values the templates see."""
    pbx = settings.pbx
    for field in ("ari_user", "ami_user", "app_name"):
        check_name(getattr(pbx, field), f"pbx.{field}")
    check_ip(pbx.bind_host, "pbx.bind_host")
    check_loopback(pbx.local_host, "pbx.local_host")
    if pbx.operator_proxy:
        _no_newline(pbx.operator_proxy, "pbx.operator_proxy")
        if not HOST_RE.match(pbx.operator_proxy):
            raise RenderError(f"pbx.operator_proxy {pbx.operator_proxy!r} is not a host or host:port")
    if not NUMBER_RE.match(pbx.hotline_number):
        raise RenderError(f"pbx.hotline_number {pbx.hotline_number!r} must be 2-15 digits")
    ports = {
        "pbx.sip_port": pbx.sip_port,
        "pbx.http_port": pbx.http_port,
        "pbx.ami_port": pbx.ami_port,
    }
    for field, port in ports.items():
        check_port(port, field)
    if len(set(ports.values())) != len(ports):
        raise RenderError("pbx.sip_port, pbx.http_port and pbx.ami_port must differ")
    check_port(pbx.rtp_port_start, "pbx.rtp_port_start")
    check_port(pbx.rtp_port_end, "pbx.rtp_port_end")
    if pbx.rtp_port_end - pbx.rtp_port_start < 10:
        raise RenderError("pbx.rtp_port_end must be at least 10 above pbx.rtp_port_start")
    if pbx.fastagi_url:
        _no_newline(pbx.fastagi_url, "pbx.fastagi_url")
        if not AGI_URL_RE.match(pbx.fastagi_url):
            raise RenderError(f"pbx.fastagi_url {pbx.fastagi_url!r} must look like agi://127.0.0.1:4573/path")
    for attr in ("etc_dir", "module_dir", "db_dir", "spool_dir", "run_dir", "log_dir", "cache_dir"):
        path = str(getattr(layout, attr))
        _no_newline(path, f"Asterisk {attr}")
        if ";" in path:  # starts a comment in Asterisk configuration files
            raise RenderError(f"Asterisk {attr} {path!r} contains ';' (đường dẫn chứa ký tự ';')")
    names = [op.name for op in operators]
    if len(set(names)) != len(names):
        raise RenderError("duplicate operator names")
    trunks = [check_trunk(t) for t in pbx.trunks]
    if len({t.name for t in trunks}) != len(trunks):
        raise RenderError("duplicate trunk names")
    return {
        "pbx": pbx,
        "layout": layout,
        "system_name": system_name(layout.instance),
        "loopback": pbx.local_host,
        "realm": REALM,
        "fallback_journal": f"{layout.log_dir}/{FALLBACK_JOURNAL}",
        "timezone": check_timezone(settings.calendar.timezone, "calendar.timezone"),
        "ari_password": check_secret(pbx.ari_password, "pbx.ari_password"),
        "ami_password": check_secret(pbx.ami_password, "pbx.ami_password"),
        "operators": [check_operator(op) for op in operators],
        "trunks": trunks,
        "dev_trunk": dev_trunk_enabled(settings),
        "queue_timeout": QUEUE_TIMEOUT_S,
        "required_modules": REQUIRED_MODULES,
        "optional_modules": OPTIONAL_MODULES,
    }


def render_all(
    settings: Settings, layout: AsteriskLayout, operators: Sequence[OperatorEndpoint]
) -> dict[str, str]:
    """``{"pjsip.conf": text, ...}`` for every template; raises :class:`RenderError` on bad input."""
    context = build_context(settings, layout, operators)
    env = environment()
    out: dict[str, str] = {}
    for name in template_names():
        try:
            out[name.removesuffix(".j2")] = env.get_template(name).render(context)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{name}: {exc}") from exc
    return out


def missing_modules(module_dir: Path, modules: Iterable[str] = REQUIRED_MODULES) -> list[str]:
    return [m for m in modules if not (module_dir / m).is_file()]


def rendered_dir(layout: AsteriskLayout) -> Path:
    """Host directory holding the last rendered configuration of this instance."""
    return layout.host_state_dir / "etc"


def write_config(files: dict[str, str], directory: Path) -> list[Path]:
    """Write rendered files (mode 0600: they hold secrets) and drop stale ``*.conf`` files."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written: list[Path] = []
    for name, text in files.items():
        path = directory / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
        written.append(path)
    for stale in directory.glob("*.conf"):
        if stale.name not in files:
            stale.unlink()
    return written


def render_to_disk(
    settings: Settings, layout: AsteriskLayout, operators: Sequence[OperatorEndpoint]
) -> list[Path]:
    """Render and write into :func:`rendered_dir`; nothing is written when validation fails."""
    files = render_all(settings, layout, operators)
    return write_config(files, rendered_dir(layout))
