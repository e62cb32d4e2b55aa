"""The one settings loader: environment variables (``HOTLINE_*``) over a TOML file over defaults.

The file is ``$HOTLINE_CONFIG`` if set, else ``./hotline.toml`` when it exists. Nested sections use
``__`` in environment variables, e.g. ``HOTLINE_DATABASE__URL`` or ``HOTLINE_PBX__ARI_PASSWORD``.
Nothing here opens connections; :func:`get_settings` is cached and cheap to call.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "password", "secret", "admin", "asterisk"})


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe."""


class DatabaseSettings(BaseModel):
    # Empty means SQLite in the data directory.
    url: str = ""
    echo: bool = False
    # PostgreSQL connections each process keeps open (and how many more it may open for a burst,
    # closed again after use). Concurrent requests of a web worker each hold one while they run; a
    # pool smaller than that opens and closes a connection per request under load.
    pool_size: int = Field(default=20, ge=1, le=200)
    max_overflow: int = Field(default=10, ge=0, le=200)


class CalendarSettings(BaseModel):
    timezone: str = "Asia/Ho_Chi_Minh"
    # Office sessions as "HH:MM-HH:MM", Mon-Fri unless working Saturdays are listed in the data file.
    sessions: list[str] = Field(default_factory=lambda: ["08:00-12:00", "13:00-17:00"])
    # Optional extra CSV with the same columns as the shipped days-off file.
    extra_days_file: str = ""


class TrunkSettings(BaseModel):
    """A SIP trunk of the carrier: identified by source IP (``match``) or by registering to it."""

    name: str
    host: str  # the carrier's SIP server, host or host:port
    match: list[str] = Field(default_factory=list)  # source IPs/CIDRs identifying calls from the trunk
    username: str = ""  # set both to register (outbound registration + auth)
    password: str = ""


class PbxSettings(BaseModel):
    bind_host: str = "127.0.0.1"
    # Loopback address of this node's ARI, AMI and AudioSocket (a cluster node on 127.0.0.12 uses that).
    local_host: str = "127.0.0.1"
    sip_port: int = 5060
    http_port: int = 8088
    ami_port: int = 5038
    audiosocket_port: int = 9092
    ari_user: str = "hotline"
    ari_password: str = ""
    ami_user: str = "hotline"
    ami_password: str = ""
    app_name: str = "hotline"
    hotline_number: str = "1022"
    asterisk_root: str = ""  # empty: <data_dir>/asterisk-root
    # Several Asterisk instances (e.g. a test one) can share a root: each has its own etc/run/spool dirs.
    instance: str = "main"
    rtp_port_start: int = 10000
    rtp_port_end: int = 10999
    fastagi_url: str = ""  # e.g. agi://127.0.0.1:4573; empty: no DTMF-only fallback before the queue
    debian_mirror: str = ""  # empty: the Debian archive from this machine's apt sources
    # Accept calls from 127.0.0.1 without authentication (SIPp, local tests). Unset: on in development,
    # off in production; set to true in production it is refused.
    dev_trunk: bool | None = None
    trunks: list[TrunkSettings] = Field(default_factory=list)
    # host:port of the SIP front (Kamailio) where operators' phones register; empty: they register here.
    operator_proxy: str = ""


class ClusterSettings(BaseModel):
    """Kamailio in front of several Asterisk nodes (``hotline cluster``)."""

    front_host: str = "127.0.0.1"
    front_port: int = 5060
    first_node_address: str = "127.0.0.11"  # node N listens on this address + N - 1
    node_prefix: str = "node"  # node N is Asterisk instance "<prefix>N"
    probe_interval_s: int = 2  # SIP OPTIONS to every node; a silent node leaves rotation
    invite_timeout_ms: int = 2000  # no answer at all from a node in this time: the next node
    node_max_calls: int = 20  # calls a node takes at once before the front stops sending it more
    kamailio_binary: str = "kamailio"


class NluSettings(BaseModel):
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    rasa_timeout_s: float = 0.5
    rasa_start_s: float = 180.0  # how long `hotline up` waits for the Rasa server to load its model
    # `hotline nlu train` serves a new model only if no evaluation set drops by more than this
    # (intent accuracy or slot F1, absolute).
    gate_tolerance: float = Field(default=0.01, ge=0.0, le=1.0)
    vosk_model_path: str = ""  # empty: the first fetched model in <data_dir>/models
    vosk_model_site: str = ""  # mirror of the Vosk model site (empty: the official one)


class AsrSettings(BaseModel):
    """Speech recognition on calls (nlu/asr). ``auto``: Vosk where a Vietnamese Vosk model is installed
    or configured, else Whisper where its model is assembled, else none (keypad menu)."""

    engine: Literal["auto", "vosk", "whisper"] = "auto"
    whisper_model_path: str = ""  # empty: <data_dir>/models/whisper-base-ct2 (models fetch whisper-base)
    whisper_threads: int = 1  # CPU threads per decode (1 leaves a core to the media path on 2 cores)
    whisper_workers: int = 1  # decodes that may run at once (each uses whisper_threads)
    whisper_beam_size: int = 1  # 1 = greedy
    vad: Literal["silero", "energy"] = "silero"  # Whisper's endpointer; energy is also the fallback


class NotifySettings(BaseModel):
    """Where notifications go. "file" writes JSON lines under <data_dir>/outbox (development)."""

    hotline_label: str = "1022"  # how messages name the hotline
    lookup_url: str = "https://1022.example.gov.vn/tra-cuu"  # public result lookup; the code is appended
    sms: Literal["file", "http", "off"] = "file"
    sms_url: str = ""
    sms_token: str = ""
    sms_body_template: str = ""  # Jinja2 JSON body; empty: {"to", "text", "id"}
    email: Literal["file", "smtp", "off"] = "file"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_sender: str = ""
    smtp_starttls: bool = True
    max_attempts: int = 8
    # who is told when a ticket reaches the city-leadership rung of the escalation ladder
    leadership_name: str = ""
    leadership_phone: str = ""
    leadership_email: str = ""


class CallSettings(BaseModel):
    """The AI operator on live calls (pbx/dialogue_handler.py)."""

    # Operators' hours as "HH:MM-HH:MM" in the calendar's timezone, every day; empty: always staffed.
    operator_hours: list[str] = Field(default_factory=list)
    # Urgent calls (HP Art. 9.1): seconds at the head of the queue before the competent agency's duty
    # phone takes the call; the PJSIP endpoint that dials out to duty phones ("" = the first trunk,
    # or the development trunk "dev-local").
    urgent_operator_wait_s: int = Field(default=30, ge=0, le=600)
    duty_endpoint: str = ""
    # The city's dossier system (GET {dossier_url}/{code}); empty: the local table <data_dir>/dossiers.csv.
    dossier_url: str = ""
    dossier_token: str = ""
    dossier_timeout_s: float = 2.0
    # Check AMI for a logged-in operator before a handoff (no one logged in -> call-back ticket).
    require_operator: bool = True


class OpsSettings(BaseModel):
    """Operations: logs, the loopback metrics/health endpoints of the workers, the web app's address."""

    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (ops/logs.py)
    log_max_bytes: int = 20_000_000  # rotate a log file the product writes beyond this size
    log_backups: int = 5  # rotated files kept
    # Loopback /metrics of the call-control app and the scheduler on this node (0: off).
    app_metrics_port: int = 9464
    scheduler_metrics_port: int = 9465
    web_url: str = "http://127.0.0.1:8080"  # where `hotline status` checks the web app


class RetentionSettings(BaseModel):
    """How long personal data is kept (``hotline retention``): a closed ticket's caller, transcript,
    recordings and the audit values that quote them, and a call's number and recording, are erased
    this many days after the ticket was closed (or the call ended without a ticket). The ticket itself
    (category, place, content, result, dates) stays for the statistics."""

    days: int = Field(default=1825, ge=1)  # five years
    blob_grace_hours: float = Field(default=24.0, ge=0)  # an unreferenced blob younger than this stays


class WebSettings(BaseModel):
    """The staff portal (``hotline web run``, started by ``hotline up``)."""

    host: str = "127.0.0.1"  # loopback unless configured; put a TLS reverse proxy in front (docs/)
    port: int = 8080
    workers: int = 1  # uvicorn worker processes (sessions and CSRF live in signed cookies)
    # Empty: generated once into <data_dir>/secrets/web_session_key (mode 0600).
    secret_key: str = ""
    # Behind a TLS proxy: Secure cookies and HSTS. Leave off for plain-HTTP development on loopback.
    https: bool = False
    session_hours: float = 10.0  # a working day; the session ends after this long
    idle_minutes: float = 60.0  # ... or after this long without a request
    max_upload_mb: float = 10.0  # evidence photos and documents
    login_attempts: int = 5  # failed logins per user name and per address ...
    login_window_minutes: float = 15.0  # ... within this window before logins are refused
    # Per-address limits of the public form, one-time codes, tracking, Open311 and the REST API, over
    # the defaults of web.public.guard.DEFAULT_LIMITS, e.g. {form = "5/minute;30/hour"}.
    public_limits: dict[str, str] = Field(default_factory=dict)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"
    city: Literal["hanoi", "haiphong", "cantho"] = "hanoi"
    data_dir: Path = Path("var")
    # The content-addressed attachment store (recordings, evidence); empty: <data_dir>/attachments. In a
    # cluster, a shared filesystem path mounted alike on every node and on the portal host.
    attachments_path: str = ""
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    pbx: PbxSettings = Field(default_factory=PbxSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    asr: AsrSettings = Field(default_factory=AsrSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    call: CallSettings = Field(default_factory=CallSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("HOTLINE_CONFIG", "hotline.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        secrets = secrets_file_path(toml_file)
        if secrets.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=secrets))
        return tuple(sources)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def attachments_dir(self) -> Path:
        return Path(self.attachments_path) if self.attachments_path else self.data_dir / "attachments"


def secrets_file_path(toml_file: Path | None = None) -> Path:
    """Generated secrets (``hotline pbx secrets``), read below the config file and the environment.

    ``$HOTLINE_SECRETS_FILE`` if set, else ``<data_dir>/secrets.toml`` where the data dir comes from
    ``$HOTLINE_DATA_DIR``, else from the config file's ``data_dir``, else ``var``.
    """
    explicit = os.environ.get("HOTLINE_SECRETS_FILE")
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("HOTLINE_DATA_DIR")
    if not data_dir:
        toml_file = toml_file or Path(os.environ.get("HOTLINE_CONFIG", "hotline.toml"))
        data_dir = "var"
        if toml_file.is_file():
            # A broken file is reported by the settings source itself.
            with contextlib.suppress(tomllib.TOMLDecodeError):
                data_dir = str(tomllib.loads(toml_file.read_text("utf-8")).get("data_dir", "var"))
    return Path(data_dir) / "secrets.toml"


def require_secret(value: str, name: str) -> str:
    """Refuse empty or placeholder secrets, and values that would break a config file."""
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        raise SettingsError(f"{name} is empty or a placeholder; set a real secret")
    if any(ch in value for ch in "\r\n\0"):
        raise SettingsError(f"{name} contains a newline or NUL")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError, TOML decode error
        raise SettingsError(f"invalid configuration: {exc}") from exc
