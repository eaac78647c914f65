"""A plain, idiomatic PyTorch CPU training loop, float32 (the workload's dtype where it
says ``torch_follows_dtype``), and ``predict`` under ``torch.inference_mode``.

``nn.Sequential`` of ``Linear`` + activation layers; each epoch shuffles an
index with ``torch.randperm`` (seeded ``torch.Generator``, no DataLoader) and
runs ``zero_grad(set_to_none=True)``, ``loss.backward()``, ``optimizer.step()``
per mini-batch. Classification uses ``CrossEntropyLoss`` on logits (PyTorch's
fused log-softmax + NLL), the idiomatic equivalent of softmax + categorical
cross-entropy.

Inference: the same ``nn.Sequential`` given numnet's initial weights, in the
workload's dtype; each timed call is ``softmax(model(torch.from_numpy(X)))``
under ``torch.inference_mode()``, back to NumPy with ``.numpy()``.
"""

from __future__ import annotations

import os

import numpy as np

from . import NotInstalled, Predictor, Trainer


def _import_torch():
    try:
        import torch
        from torch import nn
    except ImportError as exc:
        raise NotInstalled(f"torch: {exc}") from exc
    torch.set_num_threads(os.cpu_count() or 1)
    return torch, nn


def _sequential(torch, nn, w, dtype):
    """``nn.Sequential`` of ``Linear`` + activation layers for ``w``, logits out (a
    sigmoid output is a layer), parameters in ``dtype``."""
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[w.activation]
    sizes = w.layer_sizes
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(act())
    if w.output_activation == "sigmoid":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def build(w, data) -> Trainer:
    """A :class:`Trainer` for the PyTorch version of workload ``w``."""
    torch, nn = _import_torch()
    torch.manual_seed(0)
    np_dtype = np.dtype(w.dtype) if w.torch_follows_dtype else np.dtype(np.float32)
    model = _sequential(torch, nn, w, getattr(torch, np_dtype.name))

    X = torch.from_numpy(np.ascontiguousarray(data["X"], dtype=np_dtype))
    if w.is_classification:
        target = torch.from_numpy(data["labels"].astype(np.int64))
        loss_fn = nn.CrossEntropyLoss()
    else:
        target = torch.from_numpy(np.ascontiguousarray(data["Y"], dtype=np_dtype))
        loss_fn = nn.MSELoss()
    opt_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[w.optimizer]
    optimizer = opt_cls(model.parameters(), lr=w.lr)
    gen = torch.Generator().manual_seed(0)
    n, B = X.shape[0], w.batch_size

    def train(epochs: int) -> None:
        model.train()
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, B):
                idx = order[start:start + B]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), target[idx])
                loss.backward()
                optimizer.step()

    def predict(X_np):
        with torch.no_grad():
            out = model(torch.from_numpy(np.ascontiguousarray(X_np, dtype=np_dtype)))
            if w.is_classification:
                out = torch.softmax(out, dim=1)
        return out.numpy()

    return Trainer(train=train, predict=predict, dtype=np_dtype.name,
                   info={"torch_version": torch.__version__,
                         "torch_threads": torch.get_num_threads()})


def build_predict(w, data) -> Predictor:
    """``softmax(model(X))`` under ``torch.inference_mode``, numnet's initial weights."""
    from .numnet_impl import initial_network

    torch, nn = _import_torch()
    dtype = getattr(torch, np.dtype(w.dtype).name)
    model = _sequential(torch, nn, w, dtype)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    net = initial_network(w)
    with torch.no_grad():
        for layer, W, b in zip(linears, net.weights, net.biases, strict=True):
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b.copy()))
    model.eval()

    def predict(X_np):
        with torch.inference_mode():
            return torch.softmax(model(torch.from_numpy(X_np)), dim=1).numpy()

    return Predictor(predict=predict, dtype=np.dtype(w.dtype).name,
                     info={"torch_version": torch.__version__,
                           "torch_threads": torch.get_num_threads()})
