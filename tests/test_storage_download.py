"""Downloads against a real loopback server with injected faults."""

from __future__ import annotations

import hashlib

import pytest

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import ChecksumError, DownloadError, StorageError
from dmzoo.core.spec import DataModuleSpec
from dmzoo.registry import get_registry
from support.http_server import Drop, FileServer, Html, Slow, Status, WrongBytes
from support.storage_helpers import make_spec, payload, resource, sha256

SIZE = 300_000


@pytest.fixture
def second_server(tmp_path):
    with FileServer(tmp_path / "srv2") as server:
        yield server


def served(server, name="data.bin", seed=1, size=SIZE):
    data = payload(size, seed)
    server.put(name, data)
    return data


def fetch_one(spec):
    return storage.fetch(spec, spec.resources[0], quiet=True)


def test_clean_download_is_verified_and_cached(file_server):
    data = served(file_server)
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    path = fetch_one(spec)
    assert path.read_bytes() == data
    assert path == storage.dataset_dir(spec) / "downloads" / "data.bin"
    assert not list(path.parent.glob("*.part"))
    assert fetch_one(spec) == path  # second call: cache hit, no request
    assert file_server.gets("data.bin") == 1


def test_dropped_connection_resumes_with_range(file_server):
    data = served(file_server)
    file_server.fault("data.bin", Drop(after=100_000), Drop(after=50_000))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    assert fetch_one(spec).read_bytes() == data
    assert file_server.gets("data.bin") == 3
    assert file_server.range_gets("data.bin") == 2
    ranges = [r for m, p, r, _ in file_server.log if r]
    assert ranges[0] != ranges[1] and all(r.startswith("bytes=") for r in ranges)


def test_server_ignoring_range_gets_full_restart(tmp_path):
    with FileServer(tmp_path / "norange", range_support=False) as server:
        data = served(server)
        server.fault("data.bin", Drop(after=120_000))
        spec = make_spec(resource("data.bin", data, [server.url_for("data.bin")]))
        assert fetch_one(spec).read_bytes() == data
        assert server.gets("data.bin") == 2  # asked with Range, got a 200, restarted cleanly


@pytest.mark.parametrize("code", [500, 503, 429])
def test_transient_status_is_retried(file_server, code):
    data = served(file_server)
    file_server.fault("data.bin", Status(times=2, code=code))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    assert fetch_one(spec).read_bytes() == data
    assert file_server.gets("data.bin") == 3


def test_404_falls_over_to_second_mirror(file_server, second_server):
    data = served(second_server)
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                 second_server.url_for("data.bin")]))
    assert fetch_one(spec).read_bytes() == data
    assert file_server.gets("data.bin") == 1  # 404 is not retried
    assert second_server.gets("data.bin") == 1


def test_wrong_bytes_fall_over_to_second_mirror(file_server, second_server):
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", WrongBytes(times=None))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                 second_server.url_for("data.bin")]))
    assert sha256(fetch_one(spec).read_bytes()) == sha256(data)
    assert second_server.gets("data.bin") == 1


def test_html_page_with_200_is_a_failure(file_server, second_server):
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", Html(times=None))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    with pytest.raises(DownloadError, match="HTML page"):
        fetch_one(spec)
    assert not (storage.dataset_dir(spec) / "downloads" / "data.bin").exists()
    spec2 = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                  second_server.url_for("data.bin")]), name="toy2")
    assert fetch_one(spec2).read_bytes() == data


def test_slow_server_times_out_then_next_mirror(file_server, second_server, monkeypatch):
    monkeypatch.setenv("DMZOO_TIMEOUT", "2,0.3")
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", Slow(times=None, delay=5))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin"),
                                                 second_server.url_for("data.bin")]))
    assert fetch_one(spec).read_bytes() == data
    assert second_server.gets("data.bin") == 1


def test_stall_mid_body_times_out_and_resumes(file_server, monkeypatch):
    monkeypatch.setenv("DMZOO_TIMEOUT", "2,0.3")
    data = served(file_server)
    file_server.fault("data.bin", Slow(delay=5, after=150_000))
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    assert fetch_one(spec).read_bytes() == data
    assert file_server.range_gets("data.bin") == 1


def test_all_mirrors_failing_lists_every_url(file_server, second_server, tmp_path):
    data = served(file_server)
    served(second_server)
    file_server.fault("data.bin", Status(times=None, code=500))
    second_server.fault("data.bin", WrongBytes(times=None))
    dead = "http://127.0.0.1:9/data.bin"  # discard port: connection refused
    urls = [file_server.url_for("data.bin"), second_server.url_for("data.bin"), dead,
            file_server.url_for("missing.bin")]
    spec = make_spec(resource("data.bin", data, urls))
    with pytest.raises(DownloadError) as info:
        fetch_one(spec)
    message = str(info.value)
    for url in urls:
        assert url in message
    assert "HTTP 500" in message and "sha256" in message and "HTTP 404" in message
    downloads = storage.dataset_dir(spec) / "downloads"
    assert not downloads.exists() or not any(p.is_file() for p in downloads.iterdir())


def test_md5_only_resource_is_verified(file_server):
    data = served(file_server)
    good = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")], md5_only=True))
    assert fetch_one(good).read_bytes() == data
    bad_res = resource("data.bin", data[:-1] + b"\0", [file_server.url_for("data.bin")],
                       md5_only=True)
    with pytest.raises(ChecksumError, match="md5"):
        fetch_one(make_spec(bad_res, name="bad"))


def test_size_mismatch_is_rejected(file_server):
    data = served(file_server)
    res = resource("data.bin", data + b"x", [file_server.url_for("data.bin")])
    with pytest.raises(ChecksumError, match="size"):
        fetch_one(make_spec(res))


def test_mirror_env_is_tried_first(file_server, second_server, monkeypatch):
    data = served(second_server, name="toy/data.bin")
    served(file_server)
    monkeypatch.setenv("DMZOO_MIRROR", second_server.url + "/")
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    assert storage.resource_urls(spec, spec.resources[0])[0] == second_server.url_for("toy/data.bin")
    assert fetch_one(spec).read_bytes() == data
    assert file_server.gets("data.bin") == 0 and second_server.gets("toy/data.bin") == 1


class _MirrorPlugin:
    def __init__(self, base):
        self.base = base

    @dmzoo.hookimpl
    def dmzoo_resource_urls(self, spec, resource, urls):
        urls.insert(0, f"{self.base}/{resource.filename}")


class _BrokenPlugin:
    @dmzoo.hookimpl
    def dmzoo_resource_urls(self, spec, resource, urls):
        raise RuntimeError("boom")


def test_url_hook_edits_list_and_broken_hook_is_isolated(file_server, second_server):
    data = served(second_server)
    get_registry().register_plugin(_MirrorPlugin(second_server.url), "mirror")
    get_registry().register_plugin(_BrokenPlugin(), "broken")
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    with pytest.warns(dmzoo.registry.DmzooPluginWarning, match="boom"):
        urls = storage.resource_urls(spec, spec.resources[0])
    assert urls == [second_server.url_for("data.bin"), file_server.url_for("data.bin")]


def test_checksums_override_file(file_server, tmp_path, monkeypatch):
    data = served(file_server, name="upstream.bin", seed=7)
    recorded = resource("upstream.bin", b"the real upstream file", [file_server.url_for("upstream.bin")])
    spec = make_spec(recorded)
    with pytest.raises(ChecksumError):
        fetch_one(spec)  # the recorded checksum does not match the generated file
    table = tmp_path / "checksums.tsv"
    table.write_text(f"# generated\ntoy/upstream.bin\t{len(data)}\t{sha256(data)}\n")
    monkeypatch.setenv("DMZOO_CHECKSUMS", str(table))
    assert fetch_one(spec).read_bytes() == data
    # verification stays on: a wrong override still fails
    table.write_text(f"upstream.bin\t{len(data)}\t{hashlib.sha256(b'x').hexdigest()}\n")
    with pytest.raises(ChecksumError):
        fetch_one(make_spec(recorded, name="other"))


def test_malformed_checksums_file_is_a_clear_error(file_server, tmp_path, monkeypatch):
    table = tmp_path / "bad.tsv"
    table.write_text("upstream.bin\t12\tnot-a-digest\n")
    monkeypatch.setenv("DMZOO_CHECKSUMS", str(table))
    spec = make_spec(resource("upstream.bin", b"abc", [file_server.url_for("upstream.bin")]))
    with pytest.raises(StorageError, match="line 1"):
        fetch_one(spec)


def test_corrupt_cached_file_is_replaced(file_server):
    data = served(file_server)
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    path = fetch_one(spec)
    path.write_bytes(b"bitrot" + data[6:])
    assert fetch_one(spec).read_bytes() == data
    assert file_server.gets("data.bin") == 2


def test_leftover_part_from_other_source_is_discarded(file_server):
    data = served(file_server)
    spec = make_spec(resource("data.bin", data, [file_server.url_for("data.bin")]))
    downloads = storage.dataset_dir(spec) / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "data.bin.part").write_bytes(b"garbage from an older server" * 10)
    assert fetch_one(spec).read_bytes() == data  # resumed, failed the check, restarted clean


def test_spec_without_checksum_is_never_accepted(file_server):
    served(file_server)
    spec = DataModuleSpec(name="nock", version="1.0.0", cls="x.y:Z",
                          resources=(dmzoo.Resource("data.bin", (file_server.url_for("data.bin"),)),))
    with pytest.raises(ChecksumError, match="no checksum"):
        fetch_one(spec)


def test_file_url_mirror(tmp_path, monkeypatch):
    data = payload(5000, seed=9)
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "data.bin").write_bytes(data)
    monkeypatch.setenv("DMZOO_MIRROR", (tmp_path / "mirror").as_uri())
    spec = make_spec(resource("data.bin", data, ["http://127.0.0.1:9/data.bin"]))
    assert fetch_one(spec).read_bytes() == data
