"""The installed package's declared requirements keep known-vulnerable dependencies out."""

from __future__ import annotations

from importlib.metadata import requires

from packaging.requirements import Requirement

# CVE-2023-47248: pyarrow 0.14.0 to 14.0.0 unpickle data found in Parquet/IPC metadata, so
# load_datamodule("tabular", data="evil.parquet") could run code.
VULNERABLE_PYARROW = ["0.14.0", "12.0.1", "13.0.0", "14.0.0"]


def test_every_declared_pyarrow_excludes_vulnerable_versions():
    declared = [Requirement(r) for r in requires("dmzoo") or []]
    pyarrow = [r for r in declared if r.name == "pyarrow"]
    extras = {str(r.marker) for r in pyarrow}
    assert extras == {'extra == "tabular"', 'extra == "test"'}
    for requirement in pyarrow:
        allowed = [v for v in VULNERABLE_PYARROW if requirement.specifier.contains(v)]
        assert allowed == [], f"{requirement} allows vulnerable pyarrow {allowed}"
        assert requirement.specifier.contains("14.0.1")
