"""A real cluster on this machine: ``hotline cluster up --nodes 2`` (Kamailio on a free port, two
Asterisk nodes on their own loopback addresses, ``hotline app run`` and ``hotline scheduler run`` per
node, a fresh PostgreSQL database), then SIPp callers through the front.

Callers key 0 for an operator; no operator is logged in, so each call becomes a call-back draft with
the call's recording attached (keypad mode: the node apps have no speech model). The test checks that
calls spread over the nodes by call load; that when one node's Asterisk is killed mid-run its calls in
flight are closed in the call log with their drafts, the front takes the node out of rotation within
the probe interval and every new call goes to the survivor; that ``hotline cluster up`` again brings
the node back into rotation; and that no ticket is duplicated and every draft has its recording. The
longer run with numbers is ``bench/cluster.py``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.asterisk import CACHE_ROOT, ensure_root, free_port, sipp_workdir
from tests.sipcaller import SCENARIOS, CallerScript, read_stats, render_caller

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[1]
PROBE_S = 2
INVITE_TIMEOUT_MS = 1500


def hotline_argv() -> list[str]:
    script = Path(sys.executable).with_name("hotline")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "import cli; cli.main()"]


def free_node_base() -> str:
    """A 127.x.y.11 whose .11/.12 SIP ports nobody uses (other clusters may run on this machine)."""
    for _ in range(50):
        base = f"127.{random.randrange(100, 250)}.{random.randrange(1, 250)}"
        ok = True
        for last in (11, 12):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((f"{base}.{last}", 5060))
                except OSError:
                    ok = False
        if ok:
            return f"{base}.11"
    raise RuntimeError("no free loopback addresses")


@dataclass
class Cluster:
    env: dict[str, str]
    front_port: int
    data_dir: Path
    db_url: str

    def hotline(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*hotline_argv(), *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        done = self.hotline("cluster", "status", "--json", timeout=60)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def nodes(self) -> tuple[str, str]:
        """The ids of node 1 and node 2 (``<prefix>1``, ``<prefix>2``)."""
        prefix = self.env["HOTLINE_CLUSTER__NODE_PREFIX"]
        return f"{prefix}1", f"{prefix}2"

    def asterisk_pid(self, node: str) -> int:
        return int((CACHE_ROOT / f"run/asterisk-{node}/asterisk.pid").read_text().strip())

    def calls(self) -> list[dict[str, Any]]:
        done = self.hotline("calls", "list", "--json", "--limit", "500", timeout=60)
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout))

    def query(self, sql: str) -> list[Any]:
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql)))
        finally:
            engine.dispose()

    def place(
        self, workdir: Path, script: CallerScript, calls: int, rate: float, concurrent: int
    ) -> subprocess.Popen[str]:
        sipp_workdir(workdir)
        scenario = render_caller(workdir, script, hangup="after", tail_s=0.5)
        argv = [
            "sipp", "-sf", str(scenario), "-s", "1022", f"127.0.0.1:{self.front_port}",
            "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)),
            "-mp", str(free_port(socket.SOCK_DGRAM)),
            "-m", str(calls), "-r", str(rate), "-rp", "1000", "-l", str(concurrent),
            "-nostdin", "-timeout", "90", "-timeout_error", "-trace_err",
            "-error_file", str(workdir / "errors.log"),
            "-trace_stat", "-stf", str(workdir / "stats.csv"), "-fd", "1",
        ]  # fmt: skip
        return subprocess.Popen(
            argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )


def make_cluster(data_dir: Path, db_url: str) -> Cluster:
    """Settings (environment) for a cluster of this session: free front port, free node addresses,
    a random RTP range, the shared test Asterisk root and ``db_url``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    front_port = free_port(socket.SOCK_DGRAM)
    rtp = 20000 + random.randrange(0, 150) * 200
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_CONFIG": str(data_dir / "none.toml"),
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_PBX__ASTERISK_ROOT": str(CACHE_ROOT),
        "HOTLINE_PBX__RTP_PORT_START": str(rtp),
        "HOTLINE_PBX__RTP_PORT_END": str(rtp + 99),
        "HOTLINE_CLUSTER__FRONT_PORT": str(front_port),
        "HOTLINE_CLUSTER__FIRST_NODE_ADDRESS": free_node_base(),
        # node instances of their own in the shared Asterisk root (another cluster may run meanwhile)
        "HOTLINE_CLUSTER__NODE_PREFIX": f"c{random.randrange(10**6)}n",
        "HOTLINE_CLUSTER__PROBE_INTERVAL_S": str(PROBE_S),
        "HOTLINE_CLUSTER__INVITE_TIMEOUT_MS": str(INVITE_TIMEOUT_MS),
    }
    for key in [k for k in env if k.startswith("HOTLINE_PBX__") and k.endswith("_PASSWORD")]:
        del env[key]  # `cluster up` generates the secrets into the data dir
    return Cluster(env, front_port, data_dir, db_url)


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    ensure_root(tmp_path / "install")
    made = make_cluster(tmp_path / "data", pg_url)
    try:
        yield made
    finally:
        down = made.hotline("cluster", "down", timeout=120)
        prefix = made.env["HOTLINE_CLUSTER__NODE_PREFIX"]
        for node in (f"{prefix}1", f"{prefix}2"):
            for parent in ("etc", "run", "var/spool", "var/log", "var/lib", "var/cache"):
                shutil.rmtree(CACHE_ROOT / parent / f"asterisk-{node}", ignore_errors=True)
        assert down.returncode == 0, down.stderr


def finish(proc: subprocess.Popen[str], workdir: Path) -> dict[str, str]:
    proc.wait(timeout=240)
    return read_stats(workdir / "stats.csv")


def at(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["started_at"])


def test_calls_spread_fail_over_and_the_node_rejoins(cluster: Cluster, tmp_path: Path) -> None:
    up = cluster.hotline("cluster", "up", "--nodes", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    status = cluster.status()
    assert status["front"] == f"127.0.0.1:{cluster.front_port}"
    node1, node2 = cluster.nodes()
    assert [(n["id"], n["up"]) for n in status["nodes"]] == [(node1, True), (node2, True)]
    node_of = {n["address"]: n["id"] for n in status["nodes"]}
    assert len(node_of) == 2

    script = CallerScript(caller="0912345678").silence(3.0).dtmf("0").silence(7.0)

    # 1. spread: 12 overlapping calls, call-load dispatching
    one = tmp_path / "spread"
    stats = finish(cluster.place(one, script, calls=12, rate=1.5, concurrent=12), one)
    assert int(stats.get("SuccessfulCall(C)", 0)) == 12, (one / "errors.log").read_text(errors="replace")[
        -3000:
    ]
    spread = Counter(r["node"] for r in cluster.calls())
    assert sum(spread.values()) == 12 and set(spread) == {node1, node2}
    assert all(4.8 <= spread[n] <= 7.2 for n in (node1, node2)), spread  # each within ±20 % of 6

    # 2. node2's Asterisk killed mid-run
    two = tmp_path / "failover"
    proc = cluster.place(two, script, calls=14, rate=1.0, concurrent=14)
    time.sleep(5.0)
    killed_at = datetime.now(UTC)
    os.kill(cluster.asterisk_pid(node2), signal.SIGKILL)
    stats = finish(proc, two)
    rows = [r for r in cluster.calls() if at(r) > killed_at - timedelta(seconds=6)]
    in_flight = [r for r in rows if r["node"] == node2 and at(r) < killed_at]
    after = [r for r in rows if at(r) >= killed_at]
    assert in_flight, rows  # the kill hit calls in progress
    assert int(stats.get("FailedCall(C)", 0)) <= len(in_flight), stats
    assert int(stats.get("SuccessfulCall(C)", 0)) + len(in_flight) >= 14
    window = timedelta(seconds=PROBE_S + INVITE_TIMEOUT_MS / 1000 + 1)
    late = [r for r in after if at(r) >= killed_at + window]
    assert late and {r["node"] for r in late} == {node1}, after
    assert {r["node"] for r in after} == {node1}  # those in the window failed over to node1 too
    assert not cluster.status()["nodes"][1]["up"]

    # 3. back: `cluster up` again starts node2's Asterisk; its app reconnects and the front probes it in
    again = cluster.hotline("cluster", "up", "--nodes", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [n["up"] for n in cluster.status()["nodes"]] == [True, True]
    three = tmp_path / "rejoin"
    stats = finish(cluster.place(three, script, calls=6, rate=1.5, concurrent=6), three)
    assert int(stats.get("SuccessfulCall(C)", 0)) == 6
    newest = sorted(cluster.calls(), key=at)[-6:]
    assert {r["node"] for r in newest} == {node1, node2}

    # nothing lost: every call closed, each in-flight one of node2 with its draft or a handoff
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        calls = cluster.calls()
        if all(r["ended_at"] for r in calls):
            break
        time.sleep(1)
    assert all(r["ended_at"] for r in calls), [r for r in calls if not r["ended_at"]]
    by_channel = {r["channel_id"]: r for r in calls}
    for r in in_flight:
        closed = by_channel[r["channel_id"]]
        assert closed["draft_id"] or closed["ticket_code"] or closed["outcome"] == "transferred", closed
    # no ticket twice, every draft with its call's recording
    drafts = [r["draft_id"] or r["ticket_code"] for r in calls if r["draft_id"] or r["ticket_code"]]
    assert len(drafts) == len(set(drafts))
    tickets = cluster.query("SELECT code FROM tickets")
    assert sorted(t.code for t in tickets) == sorted(drafts)
    deadline = time.monotonic() + 90
    missing: list[Any] = []
    while time.monotonic() < deadline:
        missing = cluster.query(
            "SELECT t.code FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM attachments a "
            "WHERE a.ticket_id = t.id AND a.kind = 'recording')"
        )
        if not missing:
            break
        time.sleep(2)
    assert not missing, f"tickets without their recording: {[m.code for m in missing]}"


class FrontPhone:
    """An operator's phone (SIPp, the scenarios of tests/sipcaller.py) registered at the front."""

    def __init__(self, cluster: Cluster, workdir: Path, user: str, password: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        for template in ("operator_register.xml", "operator_answer.xml"):
            xml = (SCENARIOS / template).read_text(encoding="iso-8859-1")
            xml = xml.replace("{user}", user).replace("{password}", password)
            (workdir / template).write_text(xml, encoding="iso-8859-1")
        self.log = workdir / "messages.log"
        argv = [
            "sipp", "-sf", str(workdir / "operator_register.xml"),
            "-oocsf", str(workdir / "operator_answer.xml"),
            f"127.0.0.1:{cluster.front_port}", "-s", user, "-i", "127.0.0.2",
            "-p", str(free_port(socket.SOCK_DGRAM, "127.0.0.2")),
            "-mp", str(free_port(socket.SOCK_DGRAM, "127.0.0.2")),
            "-m", "1", "-nostdin", "-trace_msg", "-message_file", str(self.log),
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def invites(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.is_file() else ""
        return [m for m in text.split("\n\n") if "INVITE sip:" in m and "received" in m]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def node_cli(node: str, command: str) -> str:
    argv = [
        "chroot",
        str(CACHE_ROOT),
        "asterisk",
        "-C",
        f"/etc/asterisk-{node}/asterisk.conf",
        "-rx",
        command,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False).stdout


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_operators_register_at_the_front_and_every_node_reaches_them(
    cluster: Cluster, tmp_path: Path
) -> None:
    up = cluster.hotline("cluster", "up", "--nodes", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    added = cluster.hotline("operators", "add", "op1", "--display", "Tổng đài viên Lan")
    assert added.returncode == 0, added.stderr
    password = next(ln.split(":", 1)[1].strip() for ln in added.stdout.splitlines() if "password:" in ln)
    again = cluster.hotline("cluster", "up", "--nodes", "2")  # nodes reload, the front restarts
    assert again.returncode == 0, again.stdout + again.stderr
    assert "restarting Kamailio" in again.stdout
    address = {n["id"]: n["address"] for n in cluster.status()["nodes"]}
    script = CallerScript(caller="0912345678").silence(3.0).dtmf("0").silence(14.0)
    node1, node2 = cluster.nodes()
    for drained, target in ((node1, node2), (node2, node1)):
        phone = FrontPhone(cluster, tmp_path / f"phone-{target}", "op1", password)
        try:
            # registered at the front, and reachable from both nodes through it (their qualify)
            for node in (node1, node2):
                wait_until(lambda n=node: "Avail" in node_cli(n, "pjsip show contacts"), 60, f"op1 on {node}")
            assert cluster.hotline("cluster", "undrain", node1).returncode == 0
            assert cluster.hotline("cluster", "undrain", node2).returncode == 0
            drain = cluster.hotline("cluster", "drain", drained)
            assert drain.returncode == 0, drain.stderr
            work = tmp_path / f"call-{target}"
            stats = finish(cluster.place(work, script, calls=1, rate=1, concurrent=1), work)
            assert int(stats.get("SuccessfulCall(C)", 0)) == 1
            last = sorted(cluster.calls(), key=at)[-1]
            assert last["node"] == target and last["outcome"] == "transferred", last
            wait_until(lambda p=phone: p.invites(), 20, f"the operator's phone ringing from {target}")
            invite = phone.invites()[0]
            assert f"Via: SIP/2.0/UDP 127.0.0.1:{cluster.front_port}" in invite  # through the front
            assert f"Via: SIP/2.0/UDP {address[target]}:5060" in invite  # from the node of the call
        finally:
            phone.stop()
