"""The shared loopback file server itself: Range, counters, faults in order."""

from __future__ import annotations

import http.client

import pytest
import requests

from support.http_server import HTML_PAGE, Drop, FileServer, Html, Status, WrongBytes


def test_range_counters_and_fault_order(file_server):
    file_server.put("sub/a.bin", bytes(range(256)) * 4)
    url = file_server.url_for("sub/a.bin")
    file_server.fault("sub/a.bin", Status(times=2, code=503), Html(), WrongBytes())
    assert [requests.get(url).status_code for _ in range(2)] == [503, 503]
    assert requests.get(url).content == HTML_PAGE
    assert requests.get(url).content == bytes(255 - b for b in bytes(range(256)) * 4)
    r = requests.get(url, headers={"Range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == bytes(range(232, 256))
    assert r.headers["Content-Range"] == "bytes 1000-1023/1024"
    assert file_server.gets("sub/a.bin") == 5 and file_server.range_gets("sub/a.bin") == 1
    assert file_server.faults_fired == 4
    assert requests.get(file_server.url_for("../conftest.py")).status_code == 404
    assert requests.get(url, headers={"Range": "bytes=5000-"}).status_code == 416


def test_drop_closes_mid_body_and_range_can_be_off(tmp_path):
    with FileServer(tmp_path / "s", range_support=False) as server:
        server.put("x", b"y" * 10_000)
        server.fault("x", Drop(after=10))
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        conn.request("GET", "/x")
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        r = requests.get(server.url_for("x"), headers={"Range": "bytes=10-"})
        assert r.status_code == 200 and len(r.content) == 10_000  # Range ignored
