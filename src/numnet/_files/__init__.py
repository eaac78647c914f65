"""Files: model files and checkpoints (safetensors + JSON), written atomically, read safely.

:mod:`~numnet._files.format` (the format, its errors), :mod:`~numnet._files.encode`
(writing), :mod:`~numnet._files.decode` (reading, with every check),
:mod:`~numnet._files.atomic` (atomic writes), :mod:`~numnet._files.models`
(``save``, ``load``, ``load_metadata``) and :mod:`~numnet._files.checkpoints`
(checkpoints and the ``ModelCheckpoint`` callback). The public face is
:mod:`numnet.io`.
"""

from __future__ import annotations

from .atomic import atomic_write
from .checkpoints import ModelCheckpoint, load_checkpoint, resume_state, save_checkpoint
from .decode import check_preprocessing
from .format import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MODEL_FORMAT,
    PREPROCESSING_KEY,
    TASKS,
    Checkpoint,
    FormatError,
)
from .models import load, load_metadata, save

__all__ = ["save", "load", "load_metadata", "save_checkpoint", "load_checkpoint",
           "resume_state", "ModelCheckpoint", "Checkpoint", "FormatError", "FORMAT_VERSION",
           "MODEL_FORMAT", "CHECKPOINT_FORMAT", "PREPROCESSING_KEY", "TASKS",
           "check_preprocessing", "atomic_write"]
