"""The SIP front's configuration: strict rendering, refused values, and Kamailio itself accepting it.

``kamailio -c`` parses the rendered file with the installed Kamailio (the real binary, not a mock);
the running-front test starts it on a free port, registers an operator's phone through it with digest
authentication (SIPp) and reads the dispatcher's view of the nodes through the control socket.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import jinja2
import pytest

from config.settings import ClusterSettings, PbxSettings, Settings
from pbx.install import AsteriskLayout
from pbx.kamailio import (
    ClusterNode,
    KamailioProcess,
    check_config,
    cluster_nodes,
    environment,
    node_address,
    parse_dispatcher_list,
    render_all,
    render_to_disk,
)
from pbx.render import RenderError
from pbx.render import render_all as render_asterisk
from tests.asterisk import free_port
from ticketing.operators import new_endpoint

GOOD_SECRET = "Zq8vN2-kLw5xR7tY"


def nodes(count: int = 2) -> list[ClusterNode]:
    return cluster_nodes(ClusterSettings(), count)


def test_node_addresses_follow_the_first_one() -> None:
    cluster = ClusterSettings(first_node_address="127.0.0.11")
    assert [node_address(cluster, n) for n in (1, 2, 3)] == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    assert [n.id for n in nodes(3)] == ["node1", "node2", "node3"]


def test_rendered_front_dispatches_by_call_load_with_probing_and_failover(tmp_path: Path) -> None:
    op, _ = new_endpoint("op1", "Tổng đài viên Lan")
    cluster = ClusterSettings(front_port=25999, probe_interval_s=3, invite_timeout_ms=1500, node_max_calls=17)
    files = render_all(cluster, nodes(2), [op], tmp_path)
    cfg, ds = files["kamailio.cfg"], files["dispatcher.list"]
    assert "listen=udp:127.0.0.1:25999" in cfg
    assert 'ds_select_dst("1", "10")' in cfg  # call-load distribution
    assert 'modparam("dispatcher", "ds_ping_interval", 3)' in cfg
    assert 'modparam("dispatcher", "ds_probing_mode", 1)' in cfg  # every node probed all the time
    assert 'modparam("tm", "fr_timer", 1500)' in cfg
    assert 'ds_mark_dst("ip")' in cfg and "ds_next_dst()" in cfg  # failover on timeout/5xx
    assert 't_check_status("5[0-9][0-9]")' in cfg
    assert 'save("location", "0x04")' in cfg and 'lookup("location")' in cfg
    assert f'$var(ha1) = "{op.password_md5}"' in cfg
    assert f"unix:{tmp_path}/kamailio_ctl" in cfg
    lines = [ln for ln in ds.splitlines() if not ln.startswith("#")]
    assert lines == [
        "1 sip:127.0.0.11:5060 0 0 duid=node1;maxload=17",
        "1 sip:127.0.0.12:5060 0 0 duid=node2;maxload=17",
    ]


def test_templates_are_strict(tmp_path: Path) -> None:
    env = environment()
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("kamailio.cfg.j2").render({})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"front_host": "front.example"}, "not an IP address"),
        ({"front_port": 70000}, "not a port"),
        ({"probe_interval_s": 0}, "probe_interval_s"),
        ({"invite_timeout_ms": 50}, "invite_timeout_ms"),
        ({"node_max_calls": 0}, "node_max_calls"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, change: dict[str, object], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render_all(ClusterSettings(**change), nodes(), [], tmp_path)


def test_bad_nodes_and_injection_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="at least one node"):
        render_all(ClusterSettings(), [], [], tmp_path)
    with pytest.raises(RenderError, match="node id"):
        render_all(ClusterSettings(), [ClusterNode("Node 1", "127.0.0.11")], [], tmp_path)
    with pytest.raises(RenderError, match="already taken"):
        render_all(
            ClusterSettings(), [ClusterNode("a", "127.0.0.11"), ClusterNode("b", "127.0.0.11")], [], tmp_path
        )
    with pytest.raises(RenderError, match="line break"):
        render_all(ClusterSettings(), [ClusterNode("a", "127.0.0.11\nlisten=udp:0.0.0.0")], [], tmp_path)
    with pytest.raises(RenderError, match="run directory"):
        render_all(ClusterSettings(), nodes(), [], Path('/tmp/x";y'))


def test_nodes_reach_operators_through_the_front(tmp_path: Path) -> None:
    """With ``pbx.operator_proxy`` every node's operator AOR points at the front, not a registration."""
    op, _ = new_endpoint("op1", "Tổng đài viên Lan")
    settings = Settings(
        pbx=PbxSettings(
            ari_password=GOOD_SECRET,
            ami_password=GOOD_SECRET + "b",
            operator_proxy="127.0.0.1:5060",
            bind_host="127.0.0.12",
            local_host="127.0.0.12",
        )
    )
    lay = AsteriskLayout("chroot", tmp_path / "root", "node2", tmp_path / "state")
    files = render_asterisk(settings, lay, [op])
    assert "contact = sip:op1@127.0.0.1:5060" in files["pjsip.conf"]
    assert "bind = 127.0.0.12:5060" in files["pjsip.conf"]
    assert "bindaddr = 127.0.0.12" in files["http.conf"]
    assert "bindaddr = 127.0.0.12" in files["manager.conf"]
    assert "systemname = hotline-node2" in files["asterisk.conf"]
    with pytest.raises(RenderError, match="loopback"):
        render_asterisk(
            settings.model_copy(update={"pbx": settings.pbx.model_copy(update={"local_host": "10.0.0.5"})}),
            lay,
            [op],
        )


def test_kamailio_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    op, _ = new_endpoint("op1", "Tổng đài viên Lan")
    cfg = render_to_disk(ClusterSettings(front_port=free_port(socket.SOCK_DGRAM)), nodes(3), [op], tmp_path)
    assert "config file ok" in check_config(cfg)
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"  # it holds operators' digests


def test_parse_dispatcher_list() -> None:
    text = """
        DEST: {
            URI: sip:127.0.0.12:5060
            FLAGS: IP
        }
        DEST: {
            URI: sip:127.0.0.11:5060
            FLAGS: AP
        }
    """
    assert parse_dispatcher_list(text) == {"127.0.0.12:5060": False, "127.0.0.11:5060": True}


REGISTER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:op1@[remote_ip]:[remote_port]>;tag=[call_number]
To: <sip:op1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:op1@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: 300
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:op1@[remote_ip]:[remote_port]>;tag=[call_number]
To: <sip:op1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:op1@[local_ip]:[local_port]>
[authentication username=op1 password={password}]
Max-Forwards: 70
Expires: 300
Content-Length: 0

]]></send>
  <recv response="{final}"/>
</scenario>
"""


def register(tmp_path: Path, port: int, password: str, final: int) -> subprocess.CompletedProcess[str]:
    xml = tmp_path / f"register-{final}.xml"
    xml.write_text(REGISTER_XML.replace("{password}", password).replace("{final}", str(final)))
    return subprocess.run(
        [
            "sipp",
            "-sf",
            str(xml),
            f"127.0.0.1:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port(socket.SOCK_DGRAM)),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "15",
            "-timeout_error",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.slow
def test_running_front_registers_operators_with_digest_and_reports_nodes(tmp_path: Path) -> None:
    op, password = new_endpoint("op1", "Tổng đài viên Lan")
    port = free_port(socket.SOCK_DGRAM)
    run = tmp_path / "front"
    cfg = render_to_disk(ClusterSettings(front_port=port, probe_interval_s=1), nodes(2), [op], run)
    front = KamailioProcess(run)
    front.start(cfg)
    try:
        ok = register(tmp_path, port, password, 200)
        assert ok.returncode == 0, ok.stdout[-1500:]
        wrong = register(tmp_path, port, "not-the-password-123", 401)
        assert wrong.returncode == 0, wrong.stdout[-1500:]
        contacts = front.rpc("ul.dump")
        assert "op1" in contacts
        # Nothing listens on the node addresses: the probes take both out of rotation.
        deadline = time.monotonic() + 15
        while any(front.node_states().values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert front.node_states() == {"127.0.0.11:5060": False, "127.0.0.12:5060": False}
    finally:
        assert front.stop()
    assert front.pid() is None
