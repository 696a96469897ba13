"""The flat layout's module paths, kept working: ``import attnwidget.plot`` is ``attnwidget.export.plot``.

Code written against the old layout (``from attnwidget.payload import payload_bytes``)
gets the module where it lives now, the same object, so nothing is defined twice.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

MOVED = {
    "analysis_payload": "wire.analysis",
    "blockwise": "long.blockwise",
    "colormaps": "export.colormaps",
    "compare": "analysis.compare",
    "compat": "bertviz",
    "encoding": "wire.encoding",
    "extraction": "sources.forward",
    "frontend": "widget.frontend",
    "lens": "sources.lens",
    "longcapture": "long.capture",
    "longinput": "long.stack",
    "models": "sources.models",
    "neuron": "wire.queries",
    "page": "widget.page_side",
    "payload": "wire.payload",
    "plot": "export.plot",
    "queries": "sources.capture",
    "result": "core.stack",
    "standalone": "export.html",
    "tensors": "sources.tensors",
    "tokens": "core.tokens",
    "validation": "wire.view_state",
    "views": "analysis.shown",
}
"""Old module name -> where it lives now, both under ``attnwidget``."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and hands back the module it moved to."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != __package__ or name not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(f"{__package__}.{MOVED[spec.name.partition('.')[2]]}")
        spec.loader_state = module.__spec__  # importlib sets __spec__ to this alias's: exec_module restores it
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None and isinstance(alias.loader_state, importlib.machinery.ModuleSpec):
            module.__spec__ = alias.loader_state


def install() -> None:
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
