"""The tutorial's deep network, MLP(1, [1024] * 5, 1), on 1 - x: why it learns nothing, and a fix.

Five hidden layers of 1,024 sigmoid units (4.2 million parameters) trained on
``y = 1 - x`` one example at a time:

1. With the tutorial's weights (uniform on [0, 1), no biases) every unit past
   the first layer sums 1,024 positive terms and outputs 1.0 from the start:
   every gradient is exactly zero, so nothing can change.
2. With numnet's defaults (biases, Glorot initialisation) the gradients
   vanish on their way back through the sigmoid layers: the network gives one
   answer for every input. ``fit`` says so in a ``numnet.TrainingWarning``,
   and ``History.health`` holds the measurements, per layer (the weight
   gradient's norm, the share of saturated units, how far an epoch moved the
   weights) and the outputs' spread against the targets'.
3. ReLU hidden layers (He initialisation) with a sigmoid output, the same
   size and the same training: the gradient reaches the first layer and the
   network learns.

Each network's test error is printed beside the baseline's (always answering
the training targets' mean). Run ``python examples/deep_network.py`` (200
examples, 4 epochs: about 20 s of processor time here) or ``--quick`` (64
examples, 2 epochs: about 8 s). Every per-example step updates all 4.2
million parameters.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np

from numnet import MLP, History, TrainingWarning, fit
from numnet.baselines import baseline_loss
from numnet.callbacks import HealthMonitor
from numnet.datasets import one_minus_x


def train(net: MLP, X: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> History:
    """Per-example SGD, as the tutorial trains, with training health measured every epoch;
    prints fit's warning, if any."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingWarning)
        history = fit(net, X, y, learning_rate=lr, batch_size=1, shuffle=False, epochs=epochs,
                      verbose=False, callbacks=[HealthMonitor(budget=math.inf)])
    for warning in caught:
        print(f"TrainingWarning: {warning.message}")
    return history


def show_health(net: MLP, history: History) -> None:
    """The last measured epoch of ``history.health``, one line per layer."""
    health = history.health
    names = [f"hidden {i + 1}" for i in range(len(net.hidden_layers))] + ["output"]
    print(f"  health after epoch {health.epoch[-1] + 1}:")
    print(f"  {'layer':<9} {'activation':<10} {'gradient norm':>13} {'saturated':>9} "
          f"{'dead':>5} {'moved':>8}")
    rows = zip(names, net.activation_fns, health.grad_norm[-1], health.saturated[-1],
               health.dead[-1], health.update_ratio[-1], strict=True)
    for name, act, grad, saturated, dead, moved in rows:
        def show(value: float | None, spec: str) -> str:
            return "-" if value is None else format(value, spec)
        print(f"  {name:<9} {act.name:<10} {show(grad, '.2g'):>13} {show(saturated, '.0%'):>9} "
              f"{show(dead, '.0%'):>5} {show(moved, '.1e'):>8}")
    print(f"  outputs' spread / targets' spread: {health.output_spread[-1]:.2g}")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 examples, 2 epochs")
    parser.add_argument("--samples", type=int, help="training examples (default 200)")
    parser.add_argument("--epochs", type=int, help="epochs (default 4)")
    parser.add_argument("--lr", type=float, default=0.05,
                        help="SGD's learning rate (fit's scale; the tutorial's 0.1 is 0.05)")
    parser.add_argument("--width", type=int, default=1024, help="units per hidden layer")
    parser.add_argument("--layers", type=int, default=5, help="hidden layers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    samples = args.samples or (64 if args.quick else 200)
    epochs = args.epochs or (2 if args.quick else 4)
    hidden = [args.width] * args.layers

    X, y = one_minus_x(samples, random_state=args.seed)            # (samples, 1) each
    X_test, y_test = one_minus_x(1000, random_state=args.seed + 1)
    baseline = baseline_loss(y, "mse", y_test)
    print(f"1 - x: {samples} training examples, {epochs} epochs of per-example SGD at "
          f"{args.lr}; baseline test error {baseline:.4f}")

    def test_error(net: MLP) -> float:
        return float(np.mean((net.forward(X_test) - y_test) ** 2))

    exact = MLP(1, hidden, 1, bias=False, init="uniform", random_state=args.seed)
    _, gradients = exact.loss_and_gradients(X, y)
    outputs = exact.forward(X)
    print(f"\nthe tutorial's exact network, {exact!r} ({exact.num_parameters:,} parameters):")
    print(f"  outputs from {outputs.min():.6f} to {outputs.max():.6f} before training; "
          f"largest gradient {max(float(np.abs(g).max()) for g in gradients):g}")

    errors = {}
    networks = {
        "sigmoid (numnet's defaults)": MLP(1, hidden, 1, random_state=args.seed),
        "relu, sigmoid output": MLP(1, hidden, 1, activation="relu",
                                    output_activation="sigmoid", random_state=args.seed),
    }
    for name, net in networks.items():
        print(f"\n{name}: {net!r}")
        history = train(net, X, y, epochs, args.lr)
        show_health(net, history)
        errors[name] = test_error(net)
        print(f"  test error {errors[name]:.4f} (baseline {baseline:.4f}); "
              f"loss per epoch {' '.join(f'{loss:.4f}' for loss in history.loss)}")

    sigmoid, relu = errors.values()
    print(f"\nresult: test error {sigmoid:.4f} with sigmoid hidden layers, {relu:.4f} with "
          f"ReLU, baseline {baseline:.4f}")
    return errors


if __name__ == "__main__":
    main()
