"""numnet agrees with scikit-learn and PyTorch on the same work.

The scikit-learn comparisons run where scikit-learn is installed (the ``sklearn``
extra, part of ``test``); the PyTorch comparisons run where torch is installed
(the ``bench`` extra). Each is skipped elsewhere.
"""

import numpy as np
import pytest

from numnet import MLP, fit, optimizers

SK_ACTIVATION = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}


def _sklearn_regressor(activation, hidden, lr):
    MLPRegressor = pytest.importorskip("sklearn.neural_network").MLPRegressor
    return MLPRegressor(hidden_layer_sizes=hidden, activation=SK_ACTIVATION[activation],
                        solver="sgd", learning_rate_init=lr, momentum=0.0, alpha=0.0,
                        batch_size=40, shuffle=False, max_iter=1, random_state=0)


def _copy_weights(net, coefs, intercepts):
    for W, b, c, i in zip(net.weights, net.biases, coefs, intercepts, strict=True):
        W[...] = c
        b[...] = i


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_same_predictions_and_sgd_steps_as_sklearn(activation, rng):
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    sk = _sklearn_regressor(activation, (6, 4), lr=0.05)
    sk.partial_fit(X, y)                          # initialises its weights (one step)
    net = MLP(3, [6, 4], 1, activation=activation, output_activation="identity")
    _copy_weights(net, sk.coefs_, sk.intercepts_)
    np.testing.assert_allclose(net.forward(X)[:, 0], sk.predict(X), rtol=1e-12, atol=1e-12)

    # sklearn's squared error is mean((y - p)^2) / 2, half of numnet's mse: lr / 2 matches
    for _ in range(5):
        sk.partial_fit(X, y)
    fit(net, X, y, optimizer=optimizers.SGD(0.05 / 2), epochs=5, batch_size=None,
        shuffle=False, verbose=False)
    for W, c in zip(net.weights, sk.coefs_, strict=True):
        np.testing.assert_allclose(W, c, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.forward(X)[:, 0], sk.predict(X), rtol=1e-9, atol=1e-12)


def test_same_probabilities_as_sklearn_classifier(rng):
    MLPClassifier = pytest.importorskip("sklearn.neural_network").MLPClassifier
    from sklearn.exceptions import ConvergenceWarning
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    # 3 iterations on purpose (any weights will do to compare probabilities): scikit-learn
    # says it stopped before converging.
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        sk = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    net = MLP(4, [5], 3, activation="relu", output_activation="softmax")
    _copy_weights(net, sk.coefs_, sk.intercepts_)
    np.testing.assert_allclose(net.predict_proba(X), sk.predict_proba(X), rtol=1e-10)


ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"]


@pytest.mark.parametrize("seed", range(6))
def test_outputs_and_gradients_match_pytorch_autograd(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    hidden = [int(w) for w in rng.integers(1, 9, size=rng.integers(0, 4))]
    activation = ACTIVATIONS[seed % len(ACTIVATIONS)]
    head, loss = [("identity", "mse"), ("softmax", "categorical_cross_entropy"),
                  ("sigmoid", "binary_cross_entropy")][seed % 3]
    n_in, n_out = int(rng.integers(1, 5)), int(rng.integers(2, 5))
    net = MLP(n_in, hidden, n_out, activation=activation, output_activation=head,
              random_state=rng)
    for b in net.biases:
        b[...] = 0.1 * rng.standard_normal(b.shape)
    X = rng.normal(size=(7, n_in))
    Y = (np.eye(n_out)[rng.integers(0, n_out, 7)] if head == "softmax"
         else (rng.random((7, n_out)) > 0.5).astype(float) if head == "sigmoid"
         else rng.normal(size=(7, n_out)))

    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
           "elu": torch.nn.functional.elu, "softplus": torch.nn.functional.softplus,
           "identity": lambda z: z}[activation]
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.parameters()]
    A = torch.tensor(X)
    for i in range(net.num_layers):
        Z = A @ params[2 * i] + params[2 * i + 1]
        A = act(Z) if i < net.num_layers - 1 else Z
    T = torch.tensor(Y)
    if head == "identity":
        value = torch.nn.functional.mse_loss(A, T)
        out = A
    elif head == "softmax":
        value = torch.nn.functional.cross_entropy(A, T.argmax(dim=1))
        out = torch.softmax(A, dim=1)
    else:
        value = torch.nn.functional.binary_cross_entropy_with_logits(A, T)
        out = torch.sigmoid(A)
    value.backward()

    np.testing.assert_allclose(net.forward(X), out.detach().numpy(), rtol=1e-12, atol=1e-14)
    ours, grads = net.loss_and_gradients(X, Y, loss)
    assert ours == pytest.approx(value.item(), rel=1e-12)
    for g, p in zip(grads, params, strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-13)
