"""What a sweep's runs import first, wherever they run: the modules that register its own
activations and losses.

:func:`numnet.activations.register` and :func:`numnet.losses.register` add a name in one
process. A sweep's runs may run in others (a process pool started by ``forkserver`` or
``spawn``, Dask workers), which know only the built-in names until the registering module
is imported there. :func:`worker_plugins` finds, in the driver and before any run starts,
the registered names a sweep uses and the module that defined each one's functions (its
``__module__``), plus the modules given (``numnet --plugin``); each :class:`RunSpec
<numnet.experiments.runs.RunSpec>` carries them as a :class:`Plugins`, whose :meth:`load`
every run calls first (Python imports a module once per process, so only a process's first
run pays for it). A function defined in ``__main__`` (a script, ``python -c``, a notebook)
cannot be imported by another process: such a sweep off this process is refused, saying to
put the function in a module.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numnet import activations, losses

#: The factors (and ``fit`` arguments) that name an activation or a loss.
_ACTIVATION_FACTORS = ("activation", "output_activation")
_LOSS_FACTORS = ("loss",)


@dataclass(frozen=True)
class Plugins:
    """Modules a run imports before it trains (``modules``, in order), the folders the
    driver imported them from (``paths``, added to ``sys.path`` where missing), and the
    registered names they must provide (``activations``, ``losses``)."""

    modules: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    activations: tuple[str, ...] = ()
    losses: tuple[str, ...] = ()

    def load(self) -> None:
        """Import the modules here (once per process) and check that the names they must
        register are registered; a ValueError in one line otherwise."""
        for path in self.paths:
            if path not in sys.path and os.path.isdir(path):
                sys.path.append(path)
        for name in self.modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 (any error of the module, in one line)
                raise ValueError(f"importing {name!r}, which registers this sweep's activations "
                                 f"or losses, failed in this process: {type(exc).__name__}: "
                                 f"{exc}") from None
        missing = [f"activation {a!r}" for a in self.activations
                   if a not in activations.ACTIVATIONS]
        missing += [f"loss {n!r}" for n in self.losses if n not in losses.LOSSES]
        if missing:
            imported = ", ".join(self.modules) or "nothing"
            raise ValueError(f"{', '.join(missing)} is not registered in this process after "
                             f"importing {imported}: register it at the top of a module and "
                             f"name that module (sweep(plugins=[...]), numnet --plugin MODULE)")


def _registered_activations() -> dict[str, Any]:
    return {name: act.forward for name, act in activations.ACTIVATIONS.items()
            if name not in activations.BUILTIN}


def _registered_losses() -> dict[str, Any]:
    return {name: loss.value for name, loss in losses.LOSSES.items()
            if name not in losses.BUILTIN}


def _names(values: Iterable[Any]) -> set[str]:
    """The strings among ``values`` (a factor's values: names, or lists of names)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            found.add(value.lower())
        elif isinstance(value, (list, tuple)):
            found |= _names(value)
    return found


def used_names(factors: Iterable[Mapping[str, Sequence[Any]]], fit_kwargs: Mapping[str, Any]
               ) -> tuple[list[str], list[str]]:
    """The registered activations and losses (not numnet's own) that grids' ``factors``
    and the fixed ``fit_kwargs`` name, sorted."""
    acts: set[str] = set()
    loss_names: set[str] = set()
    for grid in [*factors, {k: [v] for k, v in fit_kwargs.items()}]:
        for key in _ACTIVATION_FACTORS:
            acts |= _names(grid.get(key, ()))
        for key in _LOSS_FACTORS:
            loss_names |= _names(grid.get(key, ()))
    return (sorted(acts & set(_registered_activations())),
            sorted(loss_names & set(_registered_losses())))


def _root(module: str) -> str | None:
    """The folder ``module`` (imported here) was found in: its file's folder, up one per
    package level; None when it has no file."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    depth = module.count(".") + (path.name == "__init__.py")
    return str(path.parents[depth])


def worker_plugins(factors: Iterable[Mapping[str, Sequence[Any]]], fit_kwargs: Mapping[str, Any],
                   modules: Sequence[str] = (), here: bool = False) -> Plugins:
    """The :class:`Plugins` a sweep's runs need: the modules that define the functions of
    the registered activations and losses its grids' ``factors`` and ``fit_kwargs`` name,
    after ``modules`` (given: ``numnet --plugin``), each imported here first.

    ``here``: every run is in this process (the serial executor), where anything
    registered is known (and ``sys.path`` is left as it is). Otherwise a name whose
    functions are defined in ``__main__`` is refused (ValueError, one line): another
    process cannot import them.
    """
    for name in modules:
        if not isinstance(name, str) or not name:
            raise TypeError(f"plugins takes module names (str), got {name!r:.80}")
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"plugin module {name!r}: {exc}; give a module importable "
                             f"here") from None
    acts, loss_names = used_names(factors, fit_kwargs)
    defined = {**{("activation", n): f for n, f in _registered_activations().items()
                  if n in acts},
               **{("loss", n): f for n, f in _registered_losses().items() if n in loss_names}}
    found = list(modules)
    for (kind, name), fn in defined.items():
        module = getattr(fn, "__module__", None)
        if module == "__main__" and not here:
            raise ValueError(f"the {kind} {name!r} is registered with functions defined in "
                             f"__main__, which the sweep's worker processes cannot import: "
                             f"put them and the register call in a module (e.g. "
                             f"my_{kind}s.py) and import it, or run the sweep serially")
        if module and module != "__main__" and module in sys.modules and module not in found:
            found.append(module)
    paths = [] if here else [p for p in map(_root, found) if p is not None]
    return Plugins(tuple(found), tuple(dict.fromkeys(paths)), tuple(acts), tuple(loss_names))
