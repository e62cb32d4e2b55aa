"""``hotline cluster``: Kamailio in front of several Asterisk nodes on this machine, one app per node.

Node N is Asterisk instance ``nodeN`` on its own loopback address (``cluster.first_node_address`` + N -
1, default 127.0.0.11, 127.0.0.12, ...): SIP, ARI, AMI and AudioSocket all bind there, so every node
uses the standard ports; RTP ranges are shifted per node. Each node runs its own ``hotline app run``
and ``hotline scheduler run`` with the node's settings in the environment; all of them use the
configured PostgreSQL database (migrated first, as ``hotline db upgrade`` does) and the one data
directory (prompts, journals and the attachment store are shared files; see
docs/decisions/170-cluster-shared-store.md). Kamailio listens on ``cluster.front_host:front_port``.

``up`` is idempotent: run again, it starts whatever of the cluster is not running (a node whose
Asterisk died rejoins). State (nodes, front) is kept in ``<data_dir>/cluster/cluster.json``; pid files
and logs of each node in ``<data_dir>/cluster/<node>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from commands.errors import UserError, load_settings
from commands.pbx import load_operators, ports_of
from commands.up import app_registered, hotline_executable, prepare, process_alive, read_pid, stop_pid
from config.private_files import open_private_binary, private_dir
from config.settings import Settings
from pbx.install import InstallError, is_installed, layout
from pbx.kamailio import ClusterNode, KamailioError, KamailioProcess, check_config, cluster_nodes
from pbx.kamailio import render_to_disk as render_front
from pbx.process import AsteriskProcess, PbxError
from pbx.render import RenderError, render_to_disk, rendered_dir

STATE_NAME = "cluster.json"
APP_READY_TIMEOUT_S = 90.0
MAX_NODES = 50
NODE_SERVICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("app", ("app", "run")),
    ("scheduler", ("scheduler", "run", "--interval", "30")),
)


def cluster_dir(settings: Settings) -> Path:
    return private_dir(settings.data_dir.resolve() / "cluster")


def front_dir(settings: Settings) -> Path:
    return private_dir(cluster_dir(settings) / "front")


def node_dir(settings: Settings, node: ClusterNode) -> Path:
    return private_dir(cluster_dir(settings) / node.id)


def front_address(settings: Settings) -> str:
    return f"{settings.cluster.front_host}:{settings.cluster.front_port}"


def node_settings(settings: Settings, node: ClusterNode, number: int) -> Settings:
    """The settings node ``number`` runs with: its instance, addresses, RTP range and the front."""
    pbx = settings.pbx
    span = pbx.rtp_port_end - pbx.rtp_port_start + 1
    start = pbx.rtp_port_start + (number - 1) * span
    if start + span - 1 > 65535:
        raise UserError(f"pbx.rtp_port_start..end is too wide for {number} nodes (RTP ports above 65535)")
    changes: dict[str, Any] = {
        "instance": node.id,
        "bind_host": node.address,
        "local_host": node.address,
        "sip_port": node.sip_port,
        "rtp_port_start": start,
        "rtp_port_end": start + span - 1,
        "operator_proxy": front_address(settings),
    }
    return settings.model_copy(update={"pbx": pbx.model_copy(update=changes)})


def node_env(settings: Settings, node_cfg: Settings) -> dict[str, str]:
    """The environment of a node's ``hotline`` processes: this one's, plus the node's settings."""
    env = dict(os.environ)
    env["HOTLINE_DATA_DIR"] = str(settings.data_dir.resolve())
    env["HOTLINE_DATABASE__URL"] = settings.database_url
    for key, value in node_cfg.pbx.model_dump().items():
        if isinstance(value, str | int | bool) and value != getattr(settings.pbx, key):
            env[f"HOTLINE_PBX__{key.upper()}"] = str(value)
    return env


# ---- state ------------------------------------------------------------------------------------------
def read_state(settings: Settings) -> dict[str, Any] | None:
    try:
        data = json.loads((cluster_dir(settings) / STATE_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(settings: Settings, nodes: list[ClusterNode]) -> None:
    path = cluster_dir(settings) / STATE_NAME
    tmp = path.with_suffix(".tmp")
    with open_private_binary(tmp, "wb") as handle:
        state = {"front": front_address(settings), "nodes": [asdict(n) for n in nodes]}
        handle.write(json.dumps(state, ensure_ascii=False, indent=2).encode())
    tmp.replace(path)


def state_nodes(state: dict[str, Any] | None) -> list[ClusterNode]:
    if not state:
        return []
    return [
        ClusterNode(str(n["id"]), str(n["address"]), int(n.get("sip_port", 5060))) for n in state["nodes"]
    ]


# ---- parts ------------------------------------------------------------------------------------------
def asterisk_of(node_cfg: Settings) -> AsteriskProcess:
    try:
        return AsteriskProcess(layout(node_cfg))
    except InstallError as exc:
        raise UserError(str(exc)) from exc


def start_node_pbx(node_cfg: Settings, operators: list[Any]) -> int:
    try:
        lay = layout(node_cfg)
        if lay.kind == "chroot" and not is_installed(lay.root):
            raise UserError("Asterisk is not installed; run: hotline pbx install (chưa cài Asterisk)")
        render_to_disk(node_cfg, lay, operators)
        proc = AsteriskProcess(lay)
        running = proc.pid()
        if running is not None and proc.is_running():
            proc.reload(rendered_dir(lay))  # operators added since: the node knows them now
            return running
        return proc.start(rendered_dir(lay), ports_of(node_cfg))
    except (InstallError, RenderError, PbxError) as exc:
        raise UserError(f"{node_cfg.pbx.instance}: {exc}") from exc


def service_pid(directory: Path, name: str, argv: tuple[str, ...]) -> int | None:
    pid = read_pid(directory / f"{name}.pid")
    if pid is not None and process_alive(pid, " ".join(argv)):
        return pid
    return None


def start_node_services(settings: Settings, node: ClusterNode, node_cfg: Settings) -> list[str]:
    directory = node_dir(settings, node)
    started = []
    for name, argv in NODE_SERVICES:
        if service_pid(directory, name, argv) is not None:
            continue
        with open_private_binary(directory / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [*hotline_executable(), *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=node_env(settings, node_cfg),
                start_new_session=True,
            )
        (directory / f"{name}.pid").write_text(f"{proc.pid}\n", encoding="utf-8")
        started.append(name)
    return started


def stop_node(settings: Settings, node: ClusterNode, node_cfg: Settings) -> list[str]:
    directory = node_dir(settings, node)
    stopped = []
    for name, argv in reversed(NODE_SERVICES):
        pid = service_pid(directory, name, argv)
        if pid is not None:
            stop_pid(pid)
            stopped.append(name)
        (directory / f"{name}.pid").unlink(missing_ok=True)
    with contextlib.suppress(UserError, PbxError):
        if asterisk_of(node_cfg).stop():
            stopped.append("asterisk")
    return stopped


def front_process(settings: Settings) -> KamailioProcess:
    return KamailioProcess(front_dir(settings), settings.cluster.kamailio_binary)


def node_up(node_cfg: Settings, front_states: dict[str, bool]) -> bool:
    """The node's app is registered with its Asterisk and the front has the node in rotation."""
    pbx = node_cfg.pbx
    return front_states.get(f"{pbx.bind_host}:{pbx.sip_port}", False) and app_registered(node_cfg)


def front_states(settings: Settings) -> dict[str, bool]:
    front = front_process(settings)
    if front.pid() is None:
        return {}
    try:
        return front.node_states()
    except KamailioError:
        return {}


def numbered(settings: Settings, nodes: list[ClusterNode]) -> list[tuple[ClusterNode, Settings]]:
    return [(node, node_settings(settings, node, number)) for number, node in enumerate(nodes, start=1)]


def require_shared_database(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        raise UserError(
            "một cụm cần cơ sở dữ liệu PostgreSQL dùng chung / a cluster needs the shared PostgreSQL "
            "database: set HOTLINE_DATABASE__URL=postgresql+psycopg://USER@HOST/DB"
        )
    from ticketing.db import migrate

    try:
        migrate.upgrade(settings.database_url)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"không nâng cấp được cơ sở dữ liệu / cannot upgrade the database: {first}") from exc


# ---- commands ---------------------------------------------------------------------------------------
@click.group("cluster")
def cluster_group() -> None:
    """Kamailio in front of several Asterisk nodes, one app and scheduler per node, one PostgreSQL.

    \b
    Examples:
      HOTLINE_DATABASE__URL=postgresql+psycopg://hotline@127.0.0.1/hotline hotline cluster up --nodes 2
      hotline cluster status --json
      hotline cluster drain node2 && hotline cluster undrain node2
      hotline cluster down
    """


@cluster_group.command(
    "up",
    epilog=(
        "\b\nExamples:\n  hotline cluster up --nodes 2\n"
        "  HOTLINE_CLUSTER__FRONT_PORT=5070 hotline cluster up --nodes 3"
    ),
)
@click.option(
    "--nodes",
    "count",
    type=click.IntRange(1, MAX_NODES),
    default=2,
    show_default=True,
    help="How many nodes.",
)
def up_cmd(count: int) -> None:
    """Start the front and N nodes (or whatever of them is not running); returns once every node's app
    takes calls and the front has every node in rotation."""
    settings = prepare(load_settings())
    require_shared_database(settings)
    operators = load_operators(settings)
    previous = state_nodes(read_state(settings))
    if previous and len(previous) != count:
        raise UserError(
            f"the cluster runs {len(previous)} node(s); run 'hotline cluster down' first to change it"
        )
    nodes = cluster_nodes(settings.cluster, count)
    write_state(settings, nodes)
    pairs = numbered(settings, nodes)
    for node, node_cfg in pairs:
        pid = start_node_pbx(node_cfg, operators)
        click.echo(f"{node.id}: Asterisk on {node.address}:{node.sip_port}, pid {pid}")
    front = front_process(settings)
    try:
        cfg = front.run_dir / "kamailio.cfg"
        before = cfg.read_text("utf-8") if cfg.is_file() else ""
        cfg = render_front(settings.cluster, nodes, operators, front.run_dir)
        if front.pid() is not None and cfg.read_text("utf-8") != before:
            # Kamailio cannot reload its script: the new operator list needs a restart (a second or
            # so; calls in progress go on through the recorded route, phones keep their registration
            # on the next REGISTER).
            click.echo("front: configuration changed (operators); restarting Kamailio")
            front.stop()
        click.echo(f"front: Kamailio on {front_address(settings)}, pid {front.start(cfg)}")
    except (RenderError, KamailioError) as exc:
        raise UserError(f"front: {exc}") from exc
    for node, node_cfg in pairs:
        started = start_node_services(settings, node, node_cfg)
        if started:
            click.echo(f"{node.id}: started {', '.join(started)} (logs in {node_dir(settings, node)})")
    deadline = time.monotonic() + APP_READY_TIMEOUT_S
    waiting = dict(pairs)
    while waiting and time.monotonic() < deadline:
        states = front_states(settings)
        for node in list(waiting):
            if node_up(waiting[node], states):
                click.echo(f"{node.id}: taking calls")
                del waiting[node]
        time.sleep(0.3)
    if waiting:
        names = ", ".join(n.id for n in waiting)
        raise UserError(
            f"{names}: not taking calls after {APP_READY_TIMEOUT_S:.0f} s "
            f"(see {cluster_dir(settings)}/<node>/app.log)"
        )
    click.echo(
        f"cluster is up: {count} node(s) behind {front_address(settings)}; stop it with: hotline cluster down"
    )


@cluster_group.command("status", epilog="Example:\n\n  hotline cluster status --json")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_cmd(as_json: bool) -> None:
    """Show the front and whether each node takes calls (app registered and in the front's rotation)."""
    settings = load_settings()
    state = read_state(settings)
    states = front_states(settings)
    rows = [
        {"id": node.id, "address": node.address, "up": node_up(node_cfg, states)}
        for node, node_cfg in numbered(settings, state_nodes(state))
    ]
    front = str(state["front"]) if state else front_address(settings)
    if as_json:
        click.echo(json.dumps({"front": front, "nodes": rows}, ensure_ascii=False))
        return
    running = "running" if front_process(settings).pid() is not None else "stopped"
    click.echo(f"front {front}: {running}")
    if not rows:
        click.echo("no cluster nodes (start them with: hotline cluster up --nodes 2)")
    for row in rows:
        click.echo(f"{row['id']:<8} {row['address']:<15} {'up' if row['up'] else 'DOWN'}")


@cluster_group.command("down", epilog="Example:\n\n  hotline cluster down")
def down_cmd() -> None:
    """Stop every node's app, scheduler and Asterisk, then the front."""
    settings = load_settings()
    nodes = state_nodes(read_state(settings))
    for node, node_cfg in reversed(numbered(settings, nodes)):
        stopped = stop_node(settings, node, node_cfg)
        click.echo(f"{node.id}: stopped {', '.join(stopped) or 'nothing (not running)'}")
    if front_process(settings).stop():
        click.echo("front: stopped")
    (cluster_dir(settings) / STATE_NAME).unlink(missing_ok=True)
    click.echo("cluster is down")


def parse_node(spec: str) -> ClusterNode:
    """``node1=10.0.0.11`` or ``node1=10.0.0.11:5060``."""
    node_id, sep, where = spec.partition("=")
    address, _, port = where.partition(":")
    if not sep or not node_id or not address:
        raise UserError(f"--node {spec!r}: write ID=ADDRESS[:PORT], e.g. node1=10.0.0.11")
    try:
        return ClusterNode(node_id, address, int(port) if port else 5060)
    except ValueError as exc:
        raise UserError(f"--node {spec!r}: the port is not a number") from exc


@cluster_group.command(
    "front",
    epilog=(
        "\b\nExamples (on the Kamailio host of a production cluster):\n"
        "  hotline cluster front --node node1=10.0.0.11 --node node2=10.0.0.12\n"
        "  hotline cluster front --node node1=10.0.0.11 --node node2=10.0.0.12 --start"
    ),
)
@click.option("--node", "specs", multiple=True, required=True, help="A node as ID=ADDRESS[:PORT] (repeat).")
@click.option("--start", is_flag=True, help="Start (or restart with the new configuration) Kamailio here.")
def front_cmd(specs: tuple[str, ...], start: bool) -> None:
    """Render and check the SIP front's configuration for nodes on other machines (one per machine)."""
    settings = load_settings()
    nodes = [parse_node(spec) for spec in specs]
    operators = load_operators(settings)
    front = front_process(settings)
    try:
        cfg = render_front(settings.cluster, nodes, operators, front.run_dir)
        check_config(cfg, settings.cluster.kamailio_binary)
        click.echo(f"front: {cfg} and {cfg.parent / 'dispatcher.list'} checked with kamailio -c")
        if start:
            front.stop()
            click.echo(f"front: Kamailio on {front_address(settings)}, pid {front.start(cfg)}")
        else:
            click.echo(f"run it with: kamailio -f {cfg} -DD -E -Y {cfg.parent}  (or --start)")
    except (RenderError, KamailioError) as exc:
        raise UserError(f"front: {exc}") from exc


def _set_state(settings: Settings, node_id: str, state: str) -> tuple[ClusterNode, Settings]:
    for node, node_cfg in numbered(settings, state_nodes(read_state(settings))):
        if node.id == node_id:
            try:
                front_process(settings).rpc(
                    "dispatcher.set_state", state, "1", f"sip:{node.address}:{node.sip_port}"
                )
            except KamailioError as exc:
                raise UserError(f"front: {exc}") from exc
            return node, node_cfg
    raise UserError(f"no node {node_id!r} in the cluster (see: hotline cluster status)")


@cluster_group.command("drain", epilog="Example:\n\n  hotline cluster drain node2 --wait 600")
@click.argument("node_id")
@click.option(
    "--wait", "wait_s", type=click.IntRange(0, 86400), default=0, help="Seconds to wait for its calls to end."
)
def drain_cmd(node_id: str, wait_s: int) -> None:
    """Take a node out of rotation (no new calls); its calls in progress go on to their end."""
    settings = load_settings()
    node, node_cfg = _set_state(settings, node_id, "d")
    click.echo(f"{node.id}: out of rotation; new calls go to the other nodes")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            found = re.search(r"(\d+) active calls?", asterisk_of(node_cfg).cli("core show channels count"))
            busy = int(found.group(1)) if found else 0
        except PbxError:
            busy = 0
        if not busy:
            click.echo(f"{node.id}: no calls in progress; safe to stop for maintenance")
            return
        if time.monotonic() >= deadline:
            click.echo(
                f"{node.id}: calls still in progress "
                f"(check again with: hotline cluster drain {node.id} --wait 60)"
            )
            return
        time.sleep(1)


@cluster_group.command("undrain", epilog="Example:\n\n  hotline cluster undrain node2")
@click.argument("node_id")
def undrain_cmd(node_id: str) -> None:
    """Put a drained node back into rotation (the probes keep it there while it answers)."""
    settings = load_settings()
    node, _ = _set_state(settings, node_id, "ap")
    click.echo(f"{node.id}: back in rotation")
