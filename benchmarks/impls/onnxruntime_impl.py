"""ONNX Runtime running numnet's own export of the network (inference only).

The network ``numnet`` builds (:func:`numnet_impl.initial_network`) goes
through ``numnet.onnx.export`` into a temporary file, in the workload's dtype,
and an ``onnxruntime.InferenceSession`` (CPU provider, default session
options) runs it: each timed call is ``session.run(["output"], {"X": X})``,
which returns a NumPy array. The graph ends in the softmax, so its output is
what ``predict_proba`` gives.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from . import NotInstalled, Predictor
from .numnet_impl import initial_network


def build_predict(w, data) -> Predictor:
    """An ONNX Runtime session on numnet's exported network, in ``w.dtype``."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise NotInstalled(f"onnxruntime: {exc}") from exc
    try:
        from numnet.onnx import export
    except ImportError as exc:
        raise NotInstalled(f"numnet.onnx: {exc}") from exc

    net = initial_network(w)
    with tempfile.TemporaryDirectory() as tmp:
        path = export(net, Path(tmp) / "net.onnx", dtype=w.dtype)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = [o.name for o in session.get_outputs()]
    (input_,) = [i.name for i in session.get_inputs()]

    def predict(X):
        return session.run([output], {input_: X})[0]

    return Predictor(predict=predict, dtype=np.dtype(w.dtype).name,
                     info={"onnxruntime_version": ort.__version__,
                           "providers": session.get_providers(),
                           "intra_op_threads": session.get_session_options()
                           .intra_op_num_threads})
