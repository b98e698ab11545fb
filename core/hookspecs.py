"""The hooks a dmzoo plugin can implement (pluggy project name ``dmzoo``).

A plugin is a module (usually named by an entry point in the ``dmzoo`` group)
holding functions marked with :data:`hookimpl`. Only
:func:`dmzoo_datamodule_specs` is required. The module must stay cheap to
import: no torch, no datamodule classes; those are named by string in the spec.

What holds: dmzoo calls each plugin's implementation alone, so one that fails
is reported and the others still run, in pluggy's order (``tryfirst`` /
``trylast``, then the most recently registered first), dropping None answers;
a ``firstresult`` hook (:func:`dmzoo_data_dir`) stops at the first answer.
A plugin is refused at registration (a one-line warning, listed by
``dmzoo doctor``, an error under ``DMZOO_STRICT=1``) when it marks a function
whose name is not one of these hooks (a misspelling would never be called), or
marks a wrapper (``wrapper=True`` or ``hookwrapper=True``): a wrapper runs
around the other plugins' implementations, where dmzoo cannot isolate it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .spec import DataModuleSpec, Resource

PROJECT_NAME = "dmzoo"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:  # type: ignore[empty-body]
    """Return this plugin's datamodule specs (required).

    Called once per process when the registry is first used. Every plugin's
    list is collected; an invalid spec is reported and skipped alone, while a
    hook that raises, runs longer than ``DMZOO_PLUGIN_TIMEOUT`` or returns more
    than ``DMZOO_PLUGIN_MAX_SPECS`` specs loses all its specs; never fatal to
    the others::

        @dmzoo.hookimpl
        def dmzoo_datamodule_specs():
            return [DataModuleSpec(name="moons", version="1.0.0",
                                   cls="my_pkg.moons:MoonsDataModule")]
    """


@hookspec
def dmzoo_resource_urls(spec: DataModuleSpec, resource: Resource, urls: list[str]) -> None:
    """Edit, in place, the ordered list of URLs tried for ``resource``.

    ``urls`` starts as the spec's URLs (after ``DMZOO_MIRROR``). Insert a
    mirror at the front, drop a dead host, rewrite to an internal proxy; every
    plugin sees the list the previous one left (like pytest's
    ``pytest_collection_modifyitems``)::

        @dmzoo.hookimpl
        def dmzoo_resource_urls(spec, resource, urls):
            urls.insert(0, f"https://mirror.example.org/{spec.name}/{resource.filename}")
    """


@hookspec(firstresult=True)
def dmzoo_data_dir(spec: DataModuleSpec) -> str | Path | None:
    """Choose the root data directory for ``spec``; the first non-None answer wins
    and later plugins are not asked.

    Explicit ``data_dir=`` and ``DMZOO_HOME`` still take precedence. Return
    None to leave the choice to other plugins or the platform cache dir::

        @dmzoo.hookimpl
        def dmzoo_data_dir(spec):
            if spec.namespace == "dmzoo":
                return "/datasets/shared-cache"
    """


@hookspec
def dmzoo_datamodule_created(spec: DataModuleSpec, datamodule: Any) -> None:
    """Observe a datamodule just built by ``load_datamodule`` (logging, audit).

    Return values are ignored; an exception here is reported as a warning and
    does not stop the load::

        @dmzoo.hookimpl
        def dmzoo_datamodule_created(spec, datamodule):
            print("using", spec.ref, "with", dict(datamodule.hparams))
    """
