"""The free-port probe before Asterisk starts: TIME_WAIT leftovers of a stopped Asterisk are free (as
they are for Asterisk's own SO_REUSEADDR listeners), a live listener is not."""

from __future__ import annotations

import socket

from pbx.process import port_in_use


def _server_side_time_wait() -> int:
    """A port whose only socket is a server-side connection in TIME_WAIT (the server closed first)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = int(listener.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = listener.accept()
    listener.close()
    conn.close()  # the server closes first: its end of the connection goes to TIME_WAIT
    client.recv(1)
    client.close()
    return port


def test_a_port_left_in_time_wait_is_free() -> None:
    port = _server_side_time_wait()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain:  # the old probe's way: refused
        try:
            plain.bind(("127.0.0.1", port))
            time_wait = False
        except OSError:
            time_wait = True
    assert time_wait, "the setup did not leave a TIME_WAIT socket"
    assert not port_in_use("127.0.0.1", port, socket.SOCK_STREAM)


def test_a_live_listener_is_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        assert port_in_use("127.0.0.1", int(listener.getsockname()[1]), socket.SOCK_STREAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        assert port_in_use("127.0.0.1", int(udp.getsockname()[1]), socket.SOCK_DGRAM)
