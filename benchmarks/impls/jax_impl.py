"""JAX on the CPU, written the way JAX's documentation recommends.

Training: one epoch is one ``jax.jit``-compiled call. Inside it the epoch's
shuffle (``jax.random.permutation``), then ``lax.scan`` over the full
mini-batches (each step gathers its rows, takes ``jax.value_and_grad`` of the
batch-mean loss and applies the update), then one more step for a last,
smaller batch when the batch size does not divide the data. The update is
plain ``jnp`` code (SGD ``p - lr * g``, or Adam with bias correction as
``torch.optim.Adam`` and ``numnet.optimizers.Adam``), no optax. Parameters and
the optimiser state are donated to the call, so XLA updates them in place.
The losses are numnet's: MSE is the mean over every element, categorical
cross-entropy the mean over samples of ``-sum(y * log_softmax(z))``.

Initial weights are copied from the numnet network the ``numnet`` row builds
(``MLP(..., random_state=0)``), so both start from the same point, in the
workload's dtype (float64 needs ``jax_enable_x64``, switched on here before
any array exists).

Inference: ``jax.jit`` of the forward pass and softmax, called on the NumPy
input and waited for with ``jax.block_until_ready`` (a synchronous call, as a
user's ``predict`` is).

Every timed call ends in ``jax.block_until_ready``; the first call, which
traces and compiles, is the worker's warm-up and shows in "compile s".
"""

from __future__ import annotations

import numpy as np

from . import NotInstalled, Predictor, Trainer


def _import_jax(dtype: str):
    """``(jax, jnp, lax)``, with 64-bit floats enabled for a float64 workload."""
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError as exc:
        raise NotInstalled(f"jax: {exc}") from exc
    if np.dtype(dtype) == np.float64:
        jax.config.update("jax_enable_x64", True)
    return jax, jnp, lax


def _info(jax) -> dict:
    import jaxlib

    return {"jax_version": jax.__version__, "jaxlib_version": jaxlib.__version__,
            "devices": [str(d) for d in jax.devices()]}


def initial_parameters(w, dtype: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(W, b), ...]`` of numnet's ``MLP(..., random_state=0)`` for workload ``w``."""
    from .numnet_impl import initial_network

    net = initial_network(w, dtype)
    return [(W.copy(), b.copy()) for W, b in zip(net.weights, net.biases, strict=True)]


def _model(jax, jnp, w):
    """``(logits(params, X), output(params, X), loss(params, X, Y))`` for workload ``w``."""
    act = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu}[w.activation]

    def logits(params, X):
        A = X
        for W, b in params[:-1]:
            A = act(A @ W + b)
        W, b = params[-1]
        return A @ W + b

    if w.output_activation == "softmax":
        def output(params, X):
            return jax.nn.softmax(logits(params, X), axis=-1)

        def loss(params, X, Y):
            return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(logits(params, X)), axis=-1))
    else:
        out_act = {"sigmoid": jax.nn.sigmoid, "identity": lambda z: z}[w.output_activation]

        def output(params, X):
            return out_act(logits(params, X))

        def loss(params, X, Y):
            return jnp.mean((output(params, X) - Y) ** 2)

    return logits, output, loss


def _optimizer(jax, jnp, w, params):
    """``(state0, update(params, state, grads) -> (params, state))``: SGD or Adam in jnp."""
    tree_map = jax.tree_util.tree_map
    lr = w.lr
    if w.optimizer == "sgd":
        def sgd(params, state, grads):
            return tree_map(lambda p, g: p - lr * g, params, grads), state

        return (), sgd

    b1, b2, eps = 0.9, 0.999, 1e-8
    state0 = (jnp.zeros((), params[0][0].dtype),                # t, m, v: distinct buffers,
              tree_map(jnp.zeros_like, params), tree_map(jnp.zeros_like, params))  # donated

    def adam(params, state, grads):
        t, m, v = state
        t = t + 1
        m = tree_map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
        v = tree_map(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grads)
        step = lr / (1 - b1 ** t)
        root = jnp.sqrt(1 - b2 ** t)
        params = tree_map(lambda p, m_, v_: p - step * m_ / (jnp.sqrt(v_) / root + eps),
                          params, m, v)
        return params, (t, m, v)

    return state0, adam


def build(w, data) -> Trainer:
    """A :class:`Trainer` whose epoch is one compiled ``lax.scan`` over the mini-batches."""
    dtype = np.dtype(w.dtype).name
    jax, jnp, lax = _import_jax(dtype)
    _, output, loss = _model(jax, jnp, w)
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in initial_parameters(w, dtype)]
    opt_state, update = _optimizer(jax, jnp, w, params)
    X, Y = jnp.asarray(data["X"], dtype=dtype), jnp.asarray(data["Y"], dtype=dtype)
    n, B = X.shape[0], w.batch_size
    full = n // B * B
    grad = jax.grad(loss)

    def step(carry, Xb, Yb):
        params, opt_state = carry
        return update(params, opt_state, grad(params, Xb, Yb))

    def epoch(carry, key, X, Y):
        key, sub = jax.random.split(key)
        order = jax.random.permutation(sub, n)

        def body(carry, idx):
            return step(carry, X[idx], Y[idx]), None

        carry, _ = lax.scan(body, carry, order[:full].reshape(-1, B))
        if full < n:                                # the last, smaller batch
            rest = order[full:]
            carry = step(carry, X[rest], Y[rest])
        return carry, key

    epoch_jit = jax.jit(epoch, donate_argnums=(0,))
    state = {"carry": (params, opt_state), "key": jax.random.key(0)}

    def train(epochs: int) -> None:
        carry, key = state["carry"], state["key"]
        for _ in range(epochs):
            carry, key = epoch_jit(carry, key, X, Y)
        state["carry"], state["key"] = jax.block_until_ready((carry, key))

    predict_jit = jax.jit(output)

    def predict(X_):
        return np.asarray(predict_jit(state["carry"][0], jnp.asarray(X_, dtype=dtype)))

    return Trainer(train=train, predict=predict, dtype=dtype, info=_info(jax))


def build_predict(w, data) -> Predictor:
    """``jax.jit`` of the forward pass (softmax included), waited for on every call."""
    dtype = np.dtype(w.dtype).name
    jax, jnp, _ = _import_jax(dtype)
    _, output, _ = _model(jax, jnp, w)
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in initial_parameters(w, dtype)]
    forward = jax.jit(output)

    def predict(X_):
        return jax.block_until_ready(forward(params, X_))

    return Predictor(predict=predict, dtype=dtype, info=_info(jax),
                     to_numpy=np.asarray)
