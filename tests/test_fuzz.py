"""Property-based: random bad (and good) input to the public API fails only with a clear
ValueError/TypeError, never another exception type, a NumPy traceback or a crash."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numnet import MLP, fit, gradcheck

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.lists(st.integers(-3, 20), max_size=4),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.lists(st.lists(st.floats(-2, 2), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(np.zeros((0, 2))), st.just(np.array([["a", "b"]])), st.just(np.array([[1 + 2j, 0]])),
    st.just(np.full((2, 2), np.nan)), st.just(np.zeros((2, 2, 2))), st.just(object()),
)


def _clear(exc: Exception) -> None:
    assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__}: {exc}"
    assert len(str(exc)) > 10, f"unhelpful message: {exc!r}"


def _call(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        _clear(exc)


@SETTINGS
@given(n_in=anything, hidden=anything, n_out=anything, activation=anything, dtype=anything)
def test_constructor(n_in, hidden, n_out, activation, dtype):
    _call(MLP, n_in, hidden, n_out, activation=activation, dtype=dtype)


@SETTINGS
@given(X=anything)
def test_forward(X):
    _call(MLP(2, [3], 1, random_state=0).forward, X)


@SETTINGS
@given(X=anything, y=anything, loss=anything)
def test_loss_and_gradients(X, y, loss):
    _call(MLP(2, [3], 1, random_state=0).loss_and_gradients, X, y, loss=loss)


@SETTINGS
@given(X=anything, y=anything, epochs=anything, batch_size=anything, lr=anything,
       optimizer=st.sampled_from(["sgd", "adam", "bogus", None, 3]),
       validation_split=anything)
def test_fit(X, y, epochs, batch_size, lr, optimizer, validation_split):
    net = MLP(2, [3], 1, random_state=0)
    try:
        fit(net, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
            learning_rate=lr, validation_split=validation_split, verbose=False)
    except (ValueError, TypeError) as exc:
        _clear(exc)
    except UserWarning:
        pass


@SETTINGS
@given(labels=st.lists(st.one_of(st.integers(-2, 5), st.text(max_size=2), st.floats(-1, 6)),
                       min_size=4, max_size=4))
def test_fit_with_odd_labels(labels):
    net = MLP(2, [3], 3, output_activation="softmax", random_state=0)
    _call(fit, net, np.zeros((4, 2)), labels, epochs=1, verbose=False)


@SETTINGS
@given(eps=anything, tolerance=anything)
def test_gradcheck_arguments(eps, tolerance):
    net = MLP(2, [3], 1, random_state=0)
    _call(gradcheck, net, np.zeros((2, 2)), np.zeros((2, 1)), eps=eps, tolerance=tolerance)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_loading_random_bytes(tmp_path, data):
    from numnet import io
    path = tmp_path / "random.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        io.load(path)
    _clear(info.value)
