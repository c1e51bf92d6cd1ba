"""The tests' own Redis servers say why they did not start instead of waiting out their deadline."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.integration.conftest import RedisServer, free_port


def test_a_server_whose_port_is_taken_fails_at_once_with_the_reason(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        server = RedisServer(port, tmp_path)
        started = time.monotonic()

        with pytest.raises(RuntimeError, match="Address already in use"):
            server.start()

        assert time.monotonic() - started < 15
    server.stop()
