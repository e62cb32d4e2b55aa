"""``hotline cluster`` without starting anything: node settings, the status contract, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main as cli
from commands.cluster import node_env, node_settings
from config.settings import ClusterSettings, PbxSettings, Settings, get_settings
from pbx.kamailio import cluster_nodes


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(data))
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HOTLINE_CLUSTER__FRONT_PORT", "25071")
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_each_node_gets_its_address_instance_rtp_range_and_the_front() -> None:
    settings = Settings(
        pbx=PbxSettings(rtp_port_start=10000, rtp_port_end=10999), cluster=ClusterSettings(front_port=5070)
    )
    nodes = cluster_nodes(settings.cluster, 2)
    second = node_settings(settings, nodes[1], 2).pbx
    assert (second.instance, second.bind_host, second.local_host) == ("node2", "127.0.0.12", "127.0.0.12")
    assert (second.rtp_port_start, second.rtp_port_end) == (11000, 11999)
    assert second.operator_proxy == "127.0.0.1:5070"
    child = node_env(settings, node_settings(settings, nodes[1], 2))
    assert child["HOTLINE_PBX__INSTANCE"] == "node2" and child["HOTLINE_PBX__LOCAL_HOST"] == "127.0.0.12"
    assert "HOTLINE_PBX__ARI_PASSWORD" not in child or child["HOTLINE_PBX__ARI_PASSWORD"] == ""


def test_status_json_is_exactly_the_contract_when_nothing_runs(env: Path) -> None:
    result = CliRunner().invoke(cli, ["cluster", "status", "--json"])
    assert result.exit_code == 0, result.output
    assert result.output == '{"front": "127.0.0.1:25071", "nodes": []}\n'
    assert json.loads(result.output) == {"front": "127.0.0.1:25071", "nodes": []}


def test_status_lists_nodes_of_the_state_as_down_when_not_running(env: Path) -> None:
    from commands.cluster import write_state

    settings = get_settings()
    write_state(settings, cluster_nodes(settings.cluster, 2))
    result = CliRunner().invoke(cli, ["cluster", "status", "--json"])
    assert json.loads(result.output) == {
        "front": "127.0.0.1:25071",
        "nodes": [
            {"id": "node1", "address": "127.0.0.11", "up": False},
            {"id": "node2", "address": "127.0.0.12", "up": False},
        ],
    }
    down = CliRunner().invoke(cli, ["cluster", "down"])
    assert down.exit_code == 0 and "cluster is down" in down.output
    assert json.loads(CliRunner().invoke(cli, ["cluster", "status", "--json"]).output)["nodes"] == []


def test_up_refuses_sqlite_in_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HOTLINE_PBX__ASTERISK_ROOT", str(Path(__file__).resolve().parents[1] / "var/asterisk-root")
    )
    monkeypatch.setenv("HOTLINE_PBX__ARI_PASSWORD", "Zq8vN2-kLw5xR7tY")
    monkeypatch.setenv("HOTLINE_PBX__AMI_PASSWORD", "Zq8vN2-kLw5xR7tYb")
    result = CliRunner().invoke(cli, ["cluster", "up", "--nodes", "2"])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output and "Traceback" not in result.output


def test_drain_of_an_unknown_node_is_a_clear_error(env: Path) -> None:
    result = CliRunner().invoke(cli, ["cluster", "drain", "node9"])
    assert result.exit_code == 1 and "no node 'node9'" in result.output


def test_attachments_can_live_on_a_shared_path(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).attachments_dir == tmp_path / "attachments"
    shared = tmp_path / "nfs" / "attachments"
    assert Settings(data_dir=tmp_path, attachments_path=str(shared)).attachments_dir == shared


def test_front_for_nodes_on_other_machines_is_rendered_and_checked(env: Path) -> None:
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(
        cli, ["cluster", "front", "--node", "node1=10.0.0.11", "--node", "node2=10.0.0.12:5070"]
    )
    assert result.exit_code == 0, result.output
    assert "checked with kamailio -c" in result.output
    listing = (env / "cluster/front/dispatcher.list").read_text()
    assert "sip:10.0.0.11:5060 0 0 duid=node1" in listing and "sip:10.0.0.12:5070 0 0 duid=node2" in listing
    bad = CliRunner().invoke(cli, ["cluster", "front", "--node", "node1"])
    assert bad.exit_code == 1 and "ID=ADDRESS" in bad.output


@pytest.mark.parametrize("command", ["up", "status", "down", "drain", "undrain", "front"])
def test_help_has_examples(command: str) -> None:
    result = CliRunner().invoke(cli, ["cluster", command, "--help"])
    assert (
        result.exit_code == 0 and "Example" in result.output and f"hotline cluster {command}" in result.output
    )
