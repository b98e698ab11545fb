"""EMNIST, SVHN and STL-10 through their real paths: loopback mirror, storage, cache, loaders.

The upstream files cannot be downloaded here, so each family's fixture writer makes them
byte-exact in the upstream format (zip of gzipped IDX, MATLAB v5, STL binary tar.gz);
they are served on loopback and verified through ``DMZOO_CHECKSUMS`` (helpers shared
with ``test_vision.py``).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import scipy.io
import torch
import torch.nn.functional as F
from test_vision import all_batches, prepare, serve

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, DmzooError, InvalidArgumentError
from dmzoo.plugins.vision import formats
from dmzoo.plugins.vision.emnist import datamodule as emnist
from dmzoo.plugins.vision.mnist.datamodule import idx_bytes
from dmzoo.plugins.vision.resized_crop import RandomResizedCropFlip
from dmzoo.plugins.vision.stl10 import datamodule as stl10
from dmzoo.plugins.vision.svhn import datamodule as svhn

SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")


def served(server, tmp_path, name, files, **kwargs):
    """Serve ``files`` for ``name`` and prepare it through the loopback mirror."""
    table = tmp_path / f"{name}.tsv"
    serve(server, name, files, table)
    return prepare(name, server, table, tmp_path / "data", **kwargs)


def load(tmp_path, name, **kwargs):
    dm = dmzoo.load_datamodule(name, data_dir=str(tmp_path / "data"), **kwargs)
    dm.setup("fit")
    return dm


def not_prepared(tmp_path, name):
    return not storage.is_prepared(dmzoo.get_spec(name), tmp_path / "data")


# -- EMNIST ----------------------------------------------------------------------------------
def emnist_upstream(archive: bytes, split: str, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (as stored) and labels of one split part, decoded independently of dmzoo."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        def read(kind, offset):
            raw = gzip.decompress(zf.read(f"gzip/{emnist.member(split, part, kind)}"))
            return np.frombuffer(raw, np.uint8, offset=offset)
        return read("images", 16).reshape(-1, 28, 28), read("labels", 8)


def test_emnist_every_split_upright_through_mirror(tmp_path, file_server):
    archive = emnist.archive_bytes(n_train=40, n_test=12, seed=3)
    served(file_server, tmp_path, "emnist", {"gzip.zip": archive})
    assert file_server.gets("emnist/gzip.zip") == 1  # one archive for all six splits
    prepared = storage.prepared_dir(dmzoo.get_spec("emnist"), tmp_path / "data")
    assert sorted(p.name for p in prepared.iterdir()) == sorted(SPLITS)  # no extracted leftovers
    glyph = emnist.upright_sample()
    for split in SPLITS:
        dm = load(tmp_path, split=split, name="emnist", batch_size=8, shuffle=False)
        images, labels = dm.dataset_train.arrays
        stored, upstream_labels = emnist_upstream(archive, split, "train")
        assert np.array_equal(images[0, 0], glyph)  # the known sample comes out upright
        assert not np.array_equal(images[0, 0], glyph.T)
        assert np.array_equal(images[:, 0], stored.transpose(0, 2, 1))
        shift = 1 if split == "letters" else 0  # letters: upstream 1-26 -> 0-25
        assert np.array_equal(labels, upstream_labels - shift)
        assert (len(dm.dataset_train), len(dm.dataset_val), len(dm.dataset_test)) == (36, 4, 12)
        seen = sum(len(y) for x, y in dm.train_dataloader())
        x, y = next(iter(dm.test_dataloader()))
        assert seen == 36 and x.shape == (8, 1, 28, 28) and int(y.max()) < dm.num_classes
    counts = {s: load(tmp_path, "emnist", split=s).num_classes for s in SPLITS}
    assert counts == {"byclass": 62, "bymerge": 47, "balanced": 47, "letters": 26,
                      "digits": 10, "mnist": 10}
    letters = load(tmp_path, "emnist", split="letters")
    assert letters.classes[0] == "a" and letters.classes[-1] == "z"
    balanced = load(tmp_path, "emnist")  # the default split
    assert balanced.hparams["split"] == "balanced" and "c" not in balanced.classes
    assert balanced.classes[:11] == list("0123456789A") and balanced.classes[36:] == list("abdefghnqrt")


def test_emnist_spec_and_unknown_split():
    spec = dmzoo.get_spec("emnist")
    (resource,) = spec.resources
    assert resource.md5 == "58c8d27c78d21e728a6bc7b3cc06412e" and "torchvision" in resource.checksum_source
    assert resource.size == 561753746 and "TensorFlow Datasets" in resource.checksum_source
    assert {s.name: s.num_examples for s in spec.splits} == {"train": 112800, "test": 18800}
    with pytest.raises(InvalidArgumentError, match="split must be one of byclass"):
        dmzoo.load_datamodule("emnist", split="letter")
    # the split's own training size bounds val_split before anything is prepared
    with pytest.raises(InvalidArgumentError, match="val_split"):
        dmzoo.load_datamodule("emnist", split="mnist", val_split=60000)
    assert dmzoo.load_datamodule("emnist", split="byclass", val_split=60000).num_train == 697932


def emnist_zip(replace: dict[str, bytes] | None = None, drop: str = "") -> bytes:
    """The fixture archive with members replaced (by base name) or dropped."""
    good = zipfile.ZipFile(io.BytesIO(emnist.archive_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in good.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if base != drop:
                zf.writestr(info.filename, (replace or {}).get(base, good.read(info)))
    return out.getvalue()


def corrupt_middle(data: bytes) -> bytes:
    """``data`` with bytes in the middle of the first member inverted (the CRC no longer fits)."""
    raw = bytearray(data)
    for i in range(200, 260):
        raw[i] ^= 0xFF
    return bytes(raw)


@pytest.mark.parametrize("case, match", [
    ("truncated", "not a zip archive"),
    ("corrupt member", "damaged"),
    ("missing member", "lacks member emnist-digits-test-labels"),
    ("wrong member size", "header says shape"),
    ("letters label 0", "out of range 1-26"),
])
def test_emnist_bad_archive_fails_prepare_cleanly(tmp_path, file_server, case, match):
    labels = formats.gzip_bytes(idx_bytes(np.zeros(10, np.uint8)))
    data = {
        "truncated": emnist.archive_bytes()[:-5000],
        "corrupt member": corrupt_middle(emnist.archive_bytes()),
        "missing member": emnist_zip(drop="emnist-digits-test-labels-idx1-ubyte.gz"),
        # 9 labels for the 10 test images of 'mnist'
        "wrong member size": emnist_zip({"emnist-mnist-test-labels-idx1-ubyte.gz":
                                         formats.gzip_bytes(idx_bytes(np.zeros(9, np.uint8)))}),
        "letters label 0": emnist_zip({"emnist-letters-test-labels-idx1-ubyte.gz": labels}),
    }[case]
    with pytest.raises(DmzooError, match=match):
        served(file_server, tmp_path, "emnist", {"gzip.zip": data})
    assert not_prepared(tmp_path, "emnist")
    folder = storage.dataset_dir(dmzoo.get_spec("emnist"), tmp_path / "data")
    assert not list(folder.glob("prepared*"))  # no half-built cache left behind


# -- SVHN ------------------------------------------------------------------------------------
def test_svhn_labels_orientation_and_extra_through_mirror(tmp_path, file_server):
    files = svhn.upstream_files(n_train=40, n_test=12, n_extra=25, seed=2)
    served(file_server, tmp_path, "svhn", files)
    upstream = {part: scipy.io.loadmat(io.BytesIO(files[f])) for part, f in
                (("train", "train_32x32.mat"), ("test", "test_32x32.mat"), ("extra", "extra_32x32.mat"))}
    assert upstream["train"]["X"].shape == (32, 32, 3, 40) and upstream["train"]["y"].shape == (40, 1)
    dm = load(tmp_path, "svhn", batch_size=10, shuffle=False)
    images, labels = dm.dataset_train.arrays
    assert np.array_equal(images[0], svhn.upright_sample())  # X[h, w, c, n] -> n, c, h, w
    want = upstream["train"]["y"][:, 0].astype(np.int64)
    assert 10 in want and np.array_equal(labels[:40], np.where(want == 10, 0, want))  # 10 -> 0
    dm.setup("test")
    test_labels = upstream["test"]["y"][:, 0].astype(np.int64) % 10
    assert torch.equal(all_batches(dm.test_dataloader())[1], torch.from_numpy(test_labels))
    assert (len(dm.dataset_train), len(dm.dataset_val), len(dm.dataset_test)) == (36, 4, 12)
    joined = load(tmp_path, "svhn", batch_size=10, shuffle=False, extra=True)
    assert len(joined.dataset_train) == 36 + 25
    assert np.array_equal(joined.dataset_val.indices, dm.dataset_val.indices)  # same validation
    x, y = all_batches(joined.train_dataloader())
    extra_x = upstream["extra"]["X"].transpose(3, 2, 0, 1)
    assert torch.equal(x[-25:], torch.from_numpy(extra_x).float() / 255)
    assert torch.equal(y[-25:], torch.from_numpy(upstream["extra"]["y"][:, 0].astype(np.int64) % 10))
    assert joined.split_fingerprint != dm.split_fingerprint
    assert joined.mean == dm.mean  # statistics of the upstream training images only
    train_pixels = upstream["train"]["X"].astype(np.float64) / 255
    assert dm.mean == pytest.approx(tuple(train_pixels.mean(axis=(0, 1, 3))), abs=1e-6)
    seen = 0
    for xb, yb in joined.train_dataloader():
        assert xb.shape[1:] == (3, 32, 32) and yb.dtype == torch.int64
        seen += len(yb)
    assert seen == 61


def mat(x: np.ndarray, y: np.ndarray) -> bytes:
    out = io.BytesIO()
    scipy.io.savemat(out, {"X": x, "y": y})
    return out.getvalue()


@pytest.mark.parametrize("case, match", [
    ("truncated", "corrupt or truncated"),
    ("wrong image shape", "expected 32 x 32 x 3 x N"),
    ("labels count", "y has shape"),
    ("label 11", "whole numbers 1-10"),
    ("missing y", "lacks the variables"),
])
def test_svhn_bad_files_fail_prepare_cleanly(tmp_path, file_server, case, match):
    files = svhn.upstream_files()
    x = np.zeros((32, 32, 3, 10), np.uint8)
    y = np.ones((10, 1))
    files["test_32x32.mat"] = {
        "truncated": files["test_32x32.mat"][: len(files["test_32x32.mat"]) // 2],
        "wrong image shape": mat(np.zeros((28, 28, 3, 10), np.uint8), y),
        "labels count": mat(x, np.ones((9, 1))),
        "label 11": mat(x, np.full((10, 1), 11.0)),
        "missing y": mat(x, y)[:0] + _mat_without_y(x),
    }[case]
    with pytest.raises(DataFormatError, match=match) as info:
        served(file_server, tmp_path, "svhn", files)
    assert "test_32x32.mat" in str(info.value)
    assert not_prepared(tmp_path, "svhn")


def _mat_without_y(x: np.ndarray) -> bytes:
    out = io.BytesIO()
    scipy.io.savemat(out, {"X": x, "labels": np.ones((10, 1))})
    return out.getvalue()


# -- STL-10 ----------------------------------------------------------------------------------
def stl_member(archive: bytes, name: str) -> bytes:
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return tar.extractfile(f"stl10_binary/{name}").read()


@pytest.mark.parametrize("unlabeled_first", [False, True])
def test_stl10_upright_labels_and_unlabeled_through_mirror(tmp_path, file_server, unlabeled_first):
    archive = stl10.archive_bytes(n_train=30, n_test=12, n_unlabeled=25, seed=5,
                                  unlabeled_first=unlabeled_first)
    served(file_server, tmp_path, "stl10", {"stl10_binary.tar.gz": archive})
    dm = load(tmp_path, "stl10", batch_size=8, shuffle=False)
    images, labels = dm.dataset_train.arrays
    assert np.array_equal(images[0], stl10.upright_sample())  # column-major upstream, upright here
    stored = np.frombuffer(stl_member(archive, "train_X.bin"), np.uint8).reshape(-1, 3, 96, 96)
    assert np.array_equal(images[:30], stored.transpose(0, 1, 3, 2))
    upstream_y = np.frombuffer(stl_member(archive, "train_y.bin"), np.uint8)
    assert np.array_equal(labels[:30], upstream_y.astype(np.int8) - 1)  # 1-10 -> 0-9
    unl = np.frombuffer(stl_member(archive, "unlabeled_X.bin"), np.uint8).reshape(-1, 3, 96, 96)
    assert np.array_equal(images[30:], unl.transpose(0, 1, 3, 2)) and (labels[30:] == -1).all()
    assert (len(dm.dataset_train), len(dm.dataset_val), len(dm.dataset_test)) == (27, 3, 12)
    assert sum(dm.class_counts("train").values()) == 27
    with_unlabeled = load(tmp_path, "stl10", batch_size=8, shuffle=False, unlabeled=True)
    x, y = all_batches(with_unlabeled.train_dataloader())
    assert x.shape == (52, 3, 96, 96) and int((y == -1).sum()) == 25 and y.dtype == torch.int64
    assert sum(with_unlabeled.class_counts("train").values()) == 27  # unlabeled rows not counted
    assert np.array_equal(with_unlabeled.dataset_val.indices, dm.dataset_val.indices)
    fig = with_unlabeled.plot(n=64, split="train")
    assert "unlabeled" in {ax.get_title() for ax in fig.axes}
    meta = json.loads((storage.prepared_dir(dm.spec, tmp_path / "data") / "meta.json").read_text())
    assert meta["counts"] == {"train": 55, "unlabeled": 25, "test": 12}


def stl_archive(**members: bytes) -> bytes:
    good = stl10.archive_bytes()
    names = ("test_X.bin", "test_y.bin", "train_X.bin", "train_y.bin", "unlabeled_X.bin")
    parts = {n: members.get(n.replace(".", "_"), stl_member(good, n)) for n in names}
    return formats.tar_gz_bytes({f"stl10_binary/{n}": v for n, v in parts.items() if v})


@pytest.mark.parametrize("case, match", [
    ("truncated", "corrupt or truncated"),
    ("wrong member size", r"train_X\.bin' is \d+ bytes, not a whole number of 27648-byte"),
    ("labels for other images", "19 test labels for 10 images"),
    ("missing member", "lacks member.*unlabeled_X.bin"),
    ("label 0", "test label 0 is out of range"),
])
def test_stl10_bad_archive_fails_prepare_cleanly(tmp_path, file_server, case, match):
    good = stl10.archive_bytes()
    data = {
        "truncated": good[: len(good) * 2 // 3],
        "wrong member size": stl_archive(train_X_bin=stl_member(good, "train_X.bin")[:-100]),
        "labels for other images": stl_archive(test_y_bin=bytes([1] * 19)),
        "missing member": stl_archive(unlabeled_X_bin=b""),
        "label 0": stl_archive(test_y_bin=bytes([0] * 10)),
    }[case]
    with pytest.raises(DataFormatError, match=match):
        served(file_server, tmp_path, "stl10", {"stl10_binary.tar.gz": data})
    assert not_prepared(tmp_path, "stl10")


def test_random_resized_crop_matches_interpolate_and_stays_in_bounds():
    x = torch.randint(0, 256, (64, 3, 96, 96), dtype=torch.uint8)
    identity = RandomResizedCropFlip(0, size=96, scale=(1, 1), ratio=(1, 1), flip=0.0)
    assert torch.equal(identity((x,))[0], x)
    mirrored = RandomResizedCropFlip(0, size=96, scale=(1, 1), ratio=(1, 1), flip=1.0)
    assert torch.equal(mirrored((x,))[0], x.flip(-1))
    aug = RandomResizedCropFlip(0, size=96, seed=7)
    top, left, h, w, flips = aug.boxes(512, 96, 96)
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 96).all() and (left + w <= 96).all()
    area = (h * w).double() / 96 ** 2
    assert float(area.min()) > 0.07 and float(area.max()) <= 1.0 and float(area.std()) > 0.1
    assert 150 < int(flips.sum()) < 362  # p = 0.5 over 512 draws
    boxes = [t[:64] for t in (top, left, h, w, flips)]
    out = aug.apply(x, *boxes)
    for i in range(64):
        t, le, hh, ww = (int(b[i]) for b in boxes[:4])
        ref = F.interpolate(x[i:i + 1, :, t:t + hh, le:le + ww].float(), size=(96, 96),
                            mode="bilinear", align_corners=False)[0]
        ref = ref.flip(-1) if bool(boxes[4][i]) else ref
        assert (out[i].float() - ref).abs().max() <= 1.0  # same resampling, up to rounding
    again = RandomResizedCropFlip(0, size=96, seed=7).boxes(512, 96, 96)
    assert all(torch.equal(a, b) for a, b in zip(again, (top, left, h, w, flips), strict=True))


def test_stl10_augment_in_datamodule(tmp_path, file_server):
    served(file_server, tmp_path, "stl10", {"stl10_binary.tar.gz": stl10.archive_bytes()})
    plain = next(iter(load(tmp_path, "stl10", batch_size=18, shuffle=False).train_dataloader()))[0]
    aug = load(tmp_path, "stl10", batch_size=18, shuffle=False, augment=True)
    loader = aug.train_dataloader()
    a, b = next(iter(loader))[0], next(iter(loader))[0]
    assert a.shape == plain.shape == (18, 3, 96, 96) and not torch.equal(a, plain)
    assert not torch.equal(a, b)  # new crops each epoch
    again = load(tmp_path, "stl10", batch_size=18, shuffle=False, augment=True)
    assert torch.equal(next(iter(again.train_dataloader()))[0], a)  # seeded


PEAK_PROBE = """
import json, sys, tracemalloc
from pathlib import Path
from dmzoo.plugins.vision.stl10.datamodule import STL10DataModule

def status(key):
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

archive, out, traced = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "traced"
# getrusage's ru_maxrss would include the forked parent's pages from before exec();
# resetting the kernel's high-water mark measures this build alone.
open("/proc/self/clear_refs", "w").write("5")
before = status("VmRSS")
if traced:  # a separate run: tracemalloc's own bookkeeping would inflate the RSS
    tracemalloc.start()
STL10DataModule.build_cache({"stl10_binary.tar.gz": archive}, out)
peak = tracemalloc.get_traced_memory()[1] if traced else status("VmHWM") - before
print(json.dumps({"peak": peak, "cache": sum(p.stat().st_size for p in out.iterdir())}))
"""


@pytest.mark.slow
def test_stl10_prepare_memory_stays_below_twice_the_cache(tmp_path):
    """The real archive's proportions at 1/20 scale (250 train, 400 test, 5,000 unlabeled):
    the RSS growth and the traced (Python + numpy) peak during the build, in fresh processes."""
    archive = tmp_path / "stl10_binary.tar.gz"
    archive.write_bytes(stl10.archive_bytes(n_train=250, n_test=400, n_unlabeled=5000))
    seen = {}
    for mode in ("rss", "traced"):
        out = tmp_path / mode
        out.mkdir()
        run = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(archive), str(out), mode],
                             capture_output=True, text=True, timeout=300, check=True)
        seen[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    print(seen)
    cache = seen["rss"]["cache"]
    assert cache > 5650 * 27648
    assert seen["rss"]["peak"] < 2 * cache and seen["traced"]["peak"] < 2 * cache


def test_conformance_suite_on_the_new_families():
    """``dmzoo check``: each family's fixture builds offline and passes every check."""
    from dmzoo.testing import check_datamodule

    for name in ("emnist", "svhn", "stl10"):
        results = check_datamodule(name, raise_on_failure=False)
        assert {r.check: r.status for r in results if r.status != "passed"} == {}, name
        assert len(results) >= 8


def test_gallery_pages_show_pictures_of_prepared_data_only(tmp_path):
    """The gallery picks the three up; a page has a picture exactly when its data is prepared."""
    from dmzoo.gallery import write_gallery
    from dmzoo.testing.fixture import fixture_kwargs

    for name in ("emnist", "svhn"):  # stl10 left unprepared
        data_dir = fixture_kwargs(dmzoo.get_spec(name), tmp_path / "fixture")["data_dir"]
    write_gallery(tmp_path / "src", prepare=False, data_dir=data_dir)
    gallery = tmp_path / "src" / "gallery"
    for name, prepared in (("emnist", True), ("svhn", True), ("stl10", False)):
        page = (gallery / "dmzoo" / f"{name}.rst").read_text()
        image = gallery / "_images" / f"dmzoo--{name}.png"
        assert (".. figure::" in page) is prepared and image.is_file() is prepared, name
        assert ("was not prepared when this page was built" in page) is not prepared, name
    assert "Class balance" in page and "monkey" in page  # the unprepared page still documents


def test_checkpoint_of_another_option_is_refused_and_named(tmp_path, file_server):
    from dmzoo.core.errors import SplitMismatchError

    served(file_server, tmp_path, "emnist", {"gzip.zip": emnist.archive_bytes()})
    state = load(tmp_path, "emnist", split="letters").state_dict()
    assert state["split"]["split"] == "letters"
    load(tmp_path, "emnist", split="letters").load_state_dict(state)  # same split: accepted
    with pytest.raises(SplitMismatchError, match=r"split='letters'\).*split='digits'.*checkpoint's seed, val_split, split"):
        load(tmp_path, "emnist", split="digits").load_state_dict(state)
    served(file_server, tmp_path, "svhn", svhn.upstream_files())
    joined = load(tmp_path, "svhn", extra=True).state_dict()
    with pytest.raises(SplitMismatchError, match=r"extra=True\).*extra=False"):
        load(tmp_path, "svhn").load_state_dict(joined)
