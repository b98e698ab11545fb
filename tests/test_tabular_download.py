"""``adult`` and ``california_housing`` prepared through the real storage layer.

A loopback server (``DMZOO_MIRROR``) serves files generated here in the exact
upstream formats; their checksums reach the storage layer through
``DMZOO_CHECKSUMS``, so verification stays on. A plugin registered in-process
keeps only loopback URLs, so no test ever tries the real hosts.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest
import torch

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, DmzooError, NotPreparedError, OfflineError
from dmzoo.plugins.tabular.adult.datamodule import WORKCLASS, adult_files
from dmzoo.plugins.tabular.california_housing.datamodule import housing_archive, housing_rows
from dmzoo.plugins.tabular.preprocess import MISSING_CODE
from support.http_server import WrongBytes


class LoopbackOnly:
    """A real ``dmzoo_resource_urls`` plugin: drop every URL but the loopback mirror."""

    @dmzoo.hookimpl
    def dmzoo_resource_urls(self, spec, resource, urls):
        urls[:] = [u for u in urls if u.startswith("http://127.0.0.1")]


@pytest.fixture
def mirror(file_server, tmp_path, monkeypatch):
    """Serve ``files`` as ``<mirror>/<name>/<file>`` with their checksums overridden."""
    monkeypatch.setenv("DMZOO_MIRROR", file_server.url)
    monkeypatch.setenv("DMZOO_BACKOFF", "0")
    dmzoo.register_plugin(LoopbackOnly(), "loopback-only")

    def serve(name: str, files: dict[str, bytes], checksums: dict[str, bytes] | None = None):
        lines = []
        for filename, payload in files.items():
            file_server.put(f"{name}/{filename}", payload)
            listed = (checksums or files)[filename]
            lines.append(f"{name}/{filename}\t{len(listed)}\t{hashlib.sha256(listed).hexdigest()}")
        table = tmp_path / "checksums.tsv"
        table.write_text("\n".join(lines) + "\n")
        monkeypatch.setenv("DMZOO_CHECKSUMS", str(table))
        return file_server

    return serve


def test_adult_is_prepared_from_upstream_format_files(mirror):
    server = mirror("adult", adult_files())
    dm = dmzoo.load_datamodule("adult", batch_size=32)
    dm.prepare_data()
    dm.prepare_data()  # idempotent: nothing fetched twice
    assert server.gets("adult/adult.data") == 1 and server.gets("adult/adult.test") == 1
    dm.setup("fit")
    sizes = dm.split_sizes()
    assert sizes["test"] == 120 and sizes["train"] + sizes["val"] == 240  # blank lines ignored
    assert sizes["val"] == 24
    assert dm.classes == ["<=50K", ">50K"]  # the test file's trailing '.' is gone
    assert len(dm.numerical) == 6 and len(dm.categorical) == 8
    row = dm.preview(1)[0]
    assert row["workclass"] in WORKCLASS[:3] + [None] and not row["workclass"].startswith(" ")
    assert isinstance(row["age"], float)
    workclass = dm.categorical.index("workclass")
    codes = np.concatenate([dm.arrays(s)["x_cat"][:, workclass] for s in ("train", "val", "test")])
    assert (codes == MISSING_CODE).any()  # '?' became missing, not a category
    assert "?" not in dm.preprocessor.categories["workclass"]
    assert dm.cardinalities[workclass] == 3 + 2
    inputs, y = next(iter(dm.train_dataloader()))
    assert inputs["x_num"].shape == (32, 6) and inputs["x_cat"].shape == (32, 8)
    assert y.dtype == torch.int64 and y.shape == (32,)
    assert dm.class_counts("test")["<=50K"] + dm.class_counts("test")[">50K"] == 120


def test_california_housing_features_are_derived_from_the_archive(mirror):
    rows = housing_rows()
    mirror("california_housing", {"cal_housing.tgz": housing_archive(rows)})
    dm = dmzoo.load_datamodule("california_housing")
    dm.prepare_data()
    dm.setup("fit")
    assert dm.task == "regression" and sum(dm.split_sizes().values()) == 200
    first = dm.preview(1)[0]
    lon, lat, age, rooms, bedrooms, population, households, income, value = rows[0]
    assert first["AveRooms"] == pytest.approx(rooms / households)
    assert first["AveBedrms"] == pytest.approx(bedrooms / households)
    assert first["AveOccup"] == pytest.approx(population / households)
    assert (first["MedInc"], first["HouseAge"], first["Latitude"], first["Longitude"]) == \
        pytest.approx((income, age, lat, lon))
    assert first["MedHouseVal"] == pytest.approx(value / 100_000)
    y = np.concatenate([dm.arrays(s)["y"] for s in ("train", "val", "test")])
    assert y.dtype == np.float32 and np.sort(y) == pytest.approx(np.sort(rows[:, 8] / 1e5), rel=1e-6)


def test_a_poisoned_mirror_prepares_nothing(mirror):
    files = adult_files()
    server = mirror("adult", files)
    server.fault("adult/adult.data", WrongBytes(times=None))
    dm = dmzoo.load_datamodule("adult")
    with pytest.raises(DmzooError, match="adult.data"):
        dm.prepare_data()
    assert not storage.is_prepared(dm.spec)
    with pytest.raises(NotPreparedError, match="dmzoo prepare dmzoo/adult"):
        dm.setup("fit")


@pytest.mark.parametrize("damage, message", [
    (lambda text: text.replace(">50K", "rich", 1), r"unexpected income label\(s\) \['rich'\]"),
    (lambda text: text.replace(", Male,", ",", 1), "not in the UCI adult format"),
])
def test_verified_but_malformed_upstream_content_prepares_nothing(mirror, damage, message):
    files = adult_files()
    files["adult.data"] = damage(files["adult.data"].decode()).encode()
    mirror("adult", files)  # the checksums are those of the damaged bytes: only parsing can tell
    dm = dmzoo.load_datamodule("adult")
    with pytest.raises(DataFormatError, match=message):
        dm.prepare_data()
    assert not storage.is_prepared(dm.spec)
    assert not (storage.dataset_dir(dm.spec) / "prepared").exists()


def test_a_bad_archive_member_is_reported(mirror):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("other/file.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    mirror("california_housing", {"cal_housing.tgz": buf.getvalue()})
    dm = dmzoo.load_datamodule("california_housing")
    with pytest.raises(DataFormatError, match="has no CaliforniaHousing/cal_housing.data"):
        dm.prepare_data()
    assert not storage.is_prepared(dm.spec)


def test_offline_names_the_missing_files(monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    dm = dmzoo.load_datamodule("adult")
    with pytest.raises(OfflineError, match="adult.data.*adult.test"):
        dm.prepare_data()


def test_recorded_checksums_are_sourced():
    adult = dmzoo.get_spec("adult")
    assert [r.size for r in adult.resources] == [3974305, 2003153]
    assert all(r.sha256 and r.md5 and "UCI publishes no checksum" in r.checksum_source
               for r in adult.resources)
    (archive,) = dmzoo.get_spec("california_housing").resources
    from sklearn.datasets import _california_housing as published

    assert archive.sha256 == published.ARCHIVE.checksum
    assert archive.urls[0] == published.ARCHIVE.url
    assert "scikit-learn" in archive.checksum_source
