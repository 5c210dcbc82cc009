"""Public names of a package, imported on first use (PEP 562).

Why: `vae_core.model.config` and `vae_core.io.registry` are read without torch (the model list
and the first page need no tensors), but importing a submodule runs its package's __init__
first. A package's public names are therefore declared here as a table and imported when first
touched, so `import vae_core.io.registry` costs milliseconds, not torch's two seconds.
"""

from __future__ import annotations

import importlib


def exports(package: str, names: dict[str, str]):
    """(__getattr__, __dir__) for a package whose public `names` map to the submodule holding them."""

    def __getattr__(name: str):
        if name in names:
            value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")  # a public submodule
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__
