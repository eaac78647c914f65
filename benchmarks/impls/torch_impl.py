"""A plain, idiomatic PyTorch CPU training loop, float32.

``nn.Sequential`` of ``Linear`` + activation layers; each epoch shuffles an
index with ``torch.randperm`` (seeded ``torch.Generator``, no DataLoader) and
runs ``zero_grad(set_to_none=True)``, ``loss.backward()``, ``optimizer.step()``
per mini-batch. Classification uses ``CrossEntropyLoss`` on logits (PyTorch's
fused log-softmax + NLL), the idiomatic equivalent of softmax + categorical
cross-entropy.
"""

from __future__ import annotations

import os

import numpy as np

from . import NotInstalled, Trainer


def build(w, data) -> Trainer:
    """A :class:`Trainer` for the PyTorch version of workload ``w``."""
    try:
        import torch
        from torch import nn
    except ImportError as exc:
        raise NotInstalled(f"torch: {exc}") from exc

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[w.activation]
    sizes = w.layer_sizes
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    if w.output_activation == "sigmoid":
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)  # float32 parameters

    X = torch.from_numpy(np.ascontiguousarray(data["X"], dtype=np.float32))
    if w.is_classification:
        target = torch.from_numpy(data["labels"].astype(np.int64))
        loss_fn = nn.CrossEntropyLoss()
    else:
        target = torch.from_numpy(np.ascontiguousarray(data["Y"], dtype=np.float32))
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
            out = model(torch.from_numpy(np.ascontiguousarray(X_np, dtype=np.float32)))
            if w.is_classification:
                out = torch.softmax(out, dim=1)
        return out.numpy()

    return Trainer(train=train, predict=predict, dtype="float32",
                   info={"torch_version": torch.__version__,
                         "torch_threads": torch.get_num_threads()})
