"""``fit`` and ``evaluate``, as the public API offers them: the training loop with ``resume_from``.

The loop itself (stages, ``History``, ``Run``) is the training layer's,
:mod:`numnet._fitting`. The public :func:`fit` adds one thing that needs the
files layer: ``resume_from`` reads a checkpoint (:mod:`numnet._files`) and
hands the restored state to the loop. A ``learning_rate`` given with
``resume_from`` sets the resumed optimizer's rate (the checkpoint's otherwise),
so that a run can go on with a smaller step, e.g. after it diverged.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from typing import Any

from ._files import resume_state
from ._fitting import History, Resume, Run, TrainingWarning, evaluate
from ._fitting import fit as _fit
from .network import Network

__all__ = ["fit", "evaluate", "History", "Run", "TrainingWarning"]


def fit(net: Network, X: Any, y: Any, *, resume_from: str | os.PathLike[str] | None = None,
        **options: Any) -> History:
    resume: Resume | None = None
    if resume_from is not None:
        if not isinstance(net, Network):
            raise TypeError(f"fit trains a numnet.MLP, got {type(net).__name__}")
        resume = resume_state(resume_from, net)
        rate = options.get("learning_rate")
        if rate is not None:     # the caller's rate wins over the one saved with the state
            state = dict(resume.optimizer_state, initial_learning_rate=rate,
                         learning_rate=rate)
            resume = dataclasses.replace(resume, optimizer_state=state)
    return _fit(net, X, y, resume=resume, **options)


def _public_signature() -> inspect.Signature:
    """The loop's signature with ``resume_from`` (a path) in place of ``resume`` (a state)."""
    loop = inspect.signature(_fit)
    params = [p for p in loop.parameters.values() if p.name != "resume"]
    params.append(inspect.Parameter("resume_from", inspect.Parameter.KEYWORD_ONLY, default=None,
                                    annotation="str | os.PathLike[str] | None"))
    return loop.replace(parameters=params)


fit.__doc__ = (_fit.__doc__ or "").replace(
    """    resume : Resume, optional
        The state of an earlier run, restored: weights, optimizer state,
        history, random state and epoch; training continues at the next epoch,
        as if it had never stopped. :func:`numnet.fit`'s ``resume_from`` reads
        one from a checkpoint file.""",
    """    resume_from : str or path, optional
        A checkpoint from :class:`numnet.callbacks.ModelCheckpoint`: weights,
        optimizer state, history and random state are restored and training
        continues at the next epoch, as if it had never stopped. A
        ``learning_rate`` given with it (and the optimizer by name) replaces the
        saved rate; the rest of the optimizer's state is restored as saved.""")
fit.__signature__ = _public_signature()  # type: ignore[attr-defined]  # for help() and IDEs
