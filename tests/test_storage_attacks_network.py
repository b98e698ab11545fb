"""Hostile or unlucky servers and settings (issue 13 items 4, 7, 12, 14; issue 12 mirror layout
and download error rule), all against the real loopback server."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from dmzoo.cli.main import main
from dmzoo.core import storage
from dmzoo.core.errors import (
    ChecksumError,
    DownloadError,
    FetchError,
    InvalidSettingError,
)
from dmzoo.registry import register_datamodule
from support.http_server import Drop, Endless, FileServer, Status, Trickle, WrongBytes
from support.storage_helpers import child_env, make_spec, payload, resource

SIZE = 100_000


@pytest.fixture
def second_server(tmp_path):
    with FileServer(tmp_path / "srv2") as server:
        yield server


def served(server, name="data.bin", size=SIZE):
    data = payload(size, 3)
    server.put(name, data)
    return data


def fetch(spec):
    return storage.fetch(spec, spec.resources[0], quiet=True)


def part_of(spec):
    return storage.dataset_dir(spec) / "downloads" / f"{spec.resources[0].filename}.part"


# -- item 4: a download never grows past the expected size -----------------------------------
@pytest.mark.parametrize("announce", [False, True], ids=["streams-on", "announces-1TB"])
def test_endless_mirror_is_cut_at_the_expected_size(file_server, second_server, announce):
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", Endless(times=None, announce=announce))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    with pytest.raises(ChecksumError, match="announced" if announce else "sent at least") as info:
        fetch(spec)
    assert f"expected {SIZE}" in str(info.value)
    assert not part_of(spec).exists()
    # the client hung up at once: the server got no chance to push a gigabyte
    assert file_server.bytes_sent < 64 * SIZE
    both = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                  second_server.url_for("data.bin")]), name="b")
    assert fetch(both).read_bytes() == data


# -- item 7: progress is kept; only resumes without progress count ----------------------------
def test_link_dropping_every_few_kib_still_finishes(file_server):
    data = served(file_server)
    # every answer dies after 4000 bytes: 24 resumes, more than the 20 a fixed cap allowed
    file_server.fault("data.bin", Drop(times=None, after=4000))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    assert fetch(spec).read_bytes() == data
    assert file_server.range_gets("data.bin") == SIZE // 4000 - 1


def test_partial_download_survives_a_failed_run(file_server):
    data = served(file_server)
    file_server.fault("data.bin", Drop(after=60_000), Status(times=None, code=503))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    with pytest.raises(DownloadError, match="HTTP 503"):
        fetch(spec)
    assert part_of(spec).stat().st_size == 60_000  # kept: the checksum will judge it
    file_server.clear_faults()
    file_server.reset_counts()
    assert fetch(spec).read_bytes() == data
    assert file_server.log[0][2] == "bytes=60000-"  # the next run resumed, not restarted


def test_wrong_partial_is_discarded(file_server, second_server):
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", WrongBytes(), Status(times=None, code=500))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                  second_server.url_for("data.bin")]))
    # mirror 1 serves a whole wrong file: it is dropped, mirror 2 gives the right one
    assert fetch(spec).read_bytes() == data


# -- item 12: a trickling server cannot hang prepare -------------------------------------------
CHILD = """
import json, sys
from dmzoo.core import storage
from dmzoo.core.spec import DataModuleSpec
spec = DataModuleSpec.from_dict(json.loads(sys.argv[1]))
try:
    storage.fetch(spec, spec.resources[0], quiet=True)
    print(json.dumps({"ok": True}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)}))
"""


def test_trickling_server_is_abandoned(file_server, tmp_path):
    data = served(file_server, size=2000)
    file_server.fault("data.bin", Trickle(times=None, interval=0.02))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    env = child_env(DMZOO_MIN_RATE="1000,0.5", DMZOO_HOME=str(tmp_path / "h"))
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec.to_dict())], env=env,
                          capture_output=True, text=True, timeout=30)  # hangs without the fix
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] == "DownloadError" and "too slow" in result["message"]
    assert "DMZOO_MIN_RATE" in result["message"]


# -- item 14: every setting is validated, in one line ------------------------------------------
@pytest.mark.parametrize("name, value", [
    ("DMZOO_TIMEOUT", "0"), ("DMZOO_TIMEOUT", "-1"), ("DMZOO_TIMEOUT", "nan"),
    ("DMZOO_TIMEOUT", "1,2,3"), ("DMZOO_TIMEOUT", "inf"), ("DMZOO_TIMEOUT", "ten"),
    ("DMZOO_BACKOFF", "-0.5"), ("DMZOO_MIN_RATE", "0"), ("DMZOO_MIN_RATE", "1,2,3"),
    ("DMZOO_OFFLINE", "maybe"), ("DMZOO_QUIET", "2"), ("DMZOO_MIRROR", "ftp://old.example"),
])
def test_bad_settings_are_one_line_errors(capsys, monkeypatch, file_server, name, value):
    data = served(file_server)
    register_datamodule(make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]),
                                  name="settled"))
    monkeypatch.setenv(name, value)
    code = main(["prepare", "settled"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{name}=" in err and ("e.g." in err or "use " in err)
    assert file_server.gets("data.bin") == 0  # rejected before any download


def test_good_settings_are_read(monkeypatch):
    from dmzoo.core.storage.download import backoff, min_rate, timeouts

    monkeypatch.setenv("DMZOO_TIMEOUT", "7")
    monkeypatch.setenv("DMZOO_MIN_RATE", "10,2")
    monkeypatch.setenv("DMZOO_BACKOFF", "0")
    assert timeouts() == (10.0, 7.0) and min_rate() == (10.0, 2.0) and backoff() == 0.0
    monkeypatch.setenv("DMZOO_TIMEOUT", "3,4")
    assert timeouts() == (3.0, 4.0)
    with pytest.raises(InvalidSettingError):
        monkeypatch.setenv("DMZOO_TIMEOUT", "3,")
        timeouts()


# -- issue 12: one error rule; a mirror folder per namespace -----------------------------------
def test_error_rule_checksum_only_when_every_source_gave_wrong_bytes(file_server, second_server):
    data = served(file_server)
    served(second_server)
    urls = [file_server.url_for("data.bin"), second_server.url_for("data.bin")]
    file_server.fault("data.bin", WrongBytes(times=None))
    second_server.fault("data.bin", Endless(times=None))
    with pytest.raises(ChecksumError, match="every URL gave wrong bytes") as info:
        fetch(make_spec(resource("data.bin", data, urls), name="a"))
    assert isinstance(info.value, FetchError)
    second_server.clear_faults()
    second_server.fault("data.bin", Status(times=None, code=404))
    with pytest.raises(DownloadError, match="every URL failed") as info:
        fetch(make_spec(resource("data.bin", data, urls), name="b"))
    assert isinstance(info.value, FetchError) and not isinstance(info.value, ChecksumError)


def test_mirror_has_a_folder_per_namespace(file_server, monkeypatch):
    first = served(file_server, "mnistish/data.bin")
    third = payload(SIZE, 9)
    file_server.put("acme/mnistish/data.bin", third)
    monkeypatch.setenv("DMZOO_MIRROR", file_server.url + "/")
    dead = ["http://127.0.0.1:9/data.bin"]  # discard port: never answers
    ours = make_spec(resource("data.bin", first, dead), name="mnistish")
    theirs = dataclasses.replace(make_spec(resource("data.bin", third, dead), name="mnistish"),
                                 namespace="acme").validate()
    assert storage.resource_urls(ours, ours.resources[0]) == [
        file_server.url_for("mnistish/data.bin"), *dead]
    assert storage.resource_urls(theirs, theirs.resources[0]) == [
        file_server.url_for("acme/mnistish/data.bin"), *dead]
    assert fetch(ours).read_bytes() == first and fetch(theirs).read_bytes() == third
