"""The SIP front of a cluster: Kamailio's configuration rendered from ``kamailio-conf/`` and its process.

Rendering works like the Asterisk configuration (:mod:`pbx.render`): every value is validated first,
the Jinja2 environment uses ``StrictUndefined`` and refuses any value with a line break. The rendered
files are checked with ``kamailio -c`` before the front starts. The running front is asked for the
dispatcher's view of the nodes through its control socket (``kamcmd dispatcher.list``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from config.private_files import open_private_binary
from config.settings import ClusterSettings
from pbx.render import RenderError, _finalize, check_ip, check_operator, check_port, find_templates
from ticketing.operators import REALM, OperatorEndpoint

TEMPLATE_DIR_ENV = "HOTLINE_KAMAILIO_TEMPLATES"
NODE_SET = 1
NODE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
CONFIG_NAME = "kamailio.cfg"


class KamailioError(RuntimeError):
    """The front could not be configured, checked, started or asked; the message says why."""


@dataclass(frozen=True)
class ClusterNode:
    """One Asterisk node behind the front: its id (= Asterisk instance), SIP address and port."""

    id: str
    address: str
    sip_port: int = 5060


def node_address(cluster: ClusterSettings, number: int) -> str:
    """The address of node ``number`` (1-based): ``first_node_address`` + number - 1."""
    first = ipaddress.ip_address(cluster.first_node_address)
    return str(first + (number - 1))


def cluster_nodes(cluster: ClusterSettings, count: int, sip_port: int = 5060) -> list[ClusterNode]:
    return [
        ClusterNode(f"{cluster.node_prefix}{n}", node_address(cluster, n), sip_port)
        for n in range(1, count + 1)
    ]


def template_dir() -> Path:
    """``kamailio-conf/`` at the repository root (or ``$HOTLINE_KAMAILIO_TEMPLATES``)."""
    return find_templates("kamailio-conf", TEMPLATE_DIR_ENV)


def environment(directory: Path | None = None) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or template_dir())),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Kamailio configuration, not HTML: values are validated instead
    )


def build_context(
    cluster: ClusterSettings,
    nodes: Sequence[ClusterNode],
    operators: Sequence[OperatorEndpoint],
    run_dir: Path,
) -> dict[str, Any]:
    check_ip(cluster.front_host, "cluster.front_host")
    check_port(cluster.front_port, "cluster.front_port")
    if not 1 <= cluster.probe_interval_s <= 300:
        raise RenderError("cluster.probe_interval_s must be between 1 and 300 seconds")
    if not 200 <= cluster.invite_timeout_ms <= 60000:
        raise RenderError("cluster.invite_timeout_ms must be between 200 and 60000")
    if not 1 <= cluster.node_max_calls <= 10000:
        raise RenderError("cluster.node_max_calls must be between 1 and 10000")
    if not nodes:
        raise RenderError("a cluster needs at least one node")
    seen: set[tuple[str, int]] = set()
    for node in nodes:
        if not NODE_ID_RE.match(node.id):
            raise RenderError(f"node id {node.id!r} must be lowercase letters, digits, '-' or '_'")
        check_ip(node.address, f"node {node.id} address")
        check_port(node.sip_port, f"node {node.id} SIP port")
        if (node.address, node.sip_port) in seen or (node.address, node.sip_port) == (
            cluster.front_host,
            cluster.front_port,
        ):
            raise RenderError(f"node {node.id}: {node.address}:{node.sip_port} is already taken")
        seen.add((node.address, node.sip_port))
    if len({n.id for n in nodes}) != len(nodes):
        raise RenderError("duplicate node ids")
    run = str(run_dir)
    if any(ch in run for ch in '"\\;') or not run.startswith("/"):
        raise RenderError(f"run directory {run!r} must be an absolute path without quotes or ';'")
    names = [op.name for op in operators]
    if len(set(names)) != len(names):
        raise RenderError("duplicate operator names")
    return {
        "cluster": cluster,
        "nodes": list(nodes),
        "node_set": NODE_SET,
        "operators": [check_operator(op) for op in operators],
        "realm": REALM,
        "run_dir": run,
        "dispatcher_list": f"{run}/dispatcher.list",
        "children": 4,
        "call_max_s": 7200,
    }


def render_all(
    cluster: ClusterSettings,
    nodes: Sequence[ClusterNode],
    operators: Sequence[OperatorEndpoint],
    run_dir: Path,
) -> dict[str, str]:
    """``{"kamailio.cfg": text, "dispatcher.list": text}``; raises :class:`RenderError` on bad input."""
    context = build_context(cluster, nodes, operators, run_dir)
    env = environment()
    out: dict[str, str] = {}
    for name in sorted(p.name for p in template_dir().glob("*.j2")):
        try:
            out[name.removesuffix(".j2")] = env.get_template(name).render(context)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{name}: {exc}") from exc
    return out


def render_to_disk(
    cluster: ClusterSettings,
    nodes: Sequence[ClusterNode],
    operators: Sequence[OperatorEndpoint],
    run_dir: Path,
) -> Path:
    """Render into ``run_dir`` (mode 0600: the config holds operators' digests); returns the cfg path."""
    files = render_all(cluster, nodes, operators, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir, 0o700)
    for name, text in files.items():
        _write(run_dir / name, text)
    return run_dir / CONFIG_NAME


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def kamailio_binary(name: str = "kamailio") -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise KamailioError("kamailio is not installed (apt-get install kamailio; scripts/setup.sh does it)")
    return found


def check_config(cfg: Path, binary: str = "kamailio") -> str:
    """``kamailio -c``: parse the configuration and load its modules; returns Kamailio's output."""
    result = subprocess.run(
        [kamailio_binary(binary), "-c", "-f", str(cfg)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        lines = output.splitlines()
        errors = [ln for ln in lines if "CRITICAL" in ln] or [ln for ln in lines if "ERROR" in ln] or lines
        reason = errors[0].split("]: ", 1)[-1] if errors else "no output"
        raise KamailioError(f"kamailio -c rejected {cfg}: {reason.strip()[:300]}")
    return output


def _alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return b"kamailio" in cmdline and state != "Z"


class KamailioProcess:
    """The front's process: started in the foreground of its own session, logging to ``kamailio.log``."""

    def __init__(self, run_dir: Path, binary: str = "kamailio") -> None:
        self.run_dir = run_dir
        self.binary = binary

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "kamailio.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "kamailio.log"

    @property
    def ctl_socket(self) -> Path:
        return self.run_dir / "kamailio_ctl"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self, cfg: Path, timeout: float = 15.0) -> int:
        running = self.pid()
        if running is not None:
            return running
        check_config(cfg, self.binary)
        self.ctl_socket.unlink(missing_ok=True)
        with open_private_binary(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [kamailio_binary(self.binary), "-f", str(cfg), "-DD", "-E", "-Y", str(self.run_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n", encoding="utf-8")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise KamailioError(f"kamailio exited with status {proc.returncode}; see {self.log_file}")
            if self.ctl_socket.exists():
                with contextlib.suppress(KamailioError):
                    self.rpc("core.version")
                    return proc.pid
            time.sleep(0.1)
        raise KamailioError(
            f"kamailio did not open its control socket in {timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 10.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        self.pid_file.unlink(missing_ok=True)
        return True

    def rpc(self, *command: str, timeout: float = 5.0) -> str:
        """One RPC command through the binrpc control socket (``kamcmd``)."""
        kamcmd = shutil.which("kamcmd") or shutil.which("kamcmd", path="/usr/sbin:/sbin")
        if kamcmd is None:
            raise KamailioError("kamcmd is not installed (it comes with the kamailio package)")
        try:
            result = subprocess.run(
                [kamcmd, "-s", f"unix:{self.ctl_socket}", *command],
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KamailioError(f"kamcmd {' '.join(command)} timed out") from exc
        if result.returncode != 0:
            raise KamailioError(
                f"kamcmd {' '.join(command)}: {(result.stderr or result.stdout).strip()[:200]}"
            )
        return result.stdout

    def node_states(self) -> dict[str, bool]:
        """``{"127.0.0.11:5060": True, ...}``: whether the dispatcher has each node in rotation."""
        return parse_dispatcher_list(self.rpc("dispatcher.list"))


DS_URI_RE = re.compile(r"URI:\s*sip:([^\s;>]+)")
DS_FLAGS_RE = re.compile(r"FLAGS:\s*([A-Z]+)")


def parse_dispatcher_list(text: str) -> dict[str, bool]:
    """Node states from ``kamcmd dispatcher.list``: flags starting with ``A`` (active) are in rotation."""
    states: dict[str, bool] = {}
    uri: str | None = None
    for line in text.splitlines():
        match = DS_URI_RE.search(line)
        if match:
            uri = match.group(1)
            continue
        flags = DS_FLAGS_RE.search(line)
        if flags and uri is not None:
            states[uri] = flags.group(1).startswith("A")
            uri = None
    return states
