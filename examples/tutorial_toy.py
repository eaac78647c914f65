"""The tutorial's toy task, 1 - x: its exact network and numnet's defaults, beside the baseline.

The tutorial ("Training to train: ANN part II", the Sound of AI) trains
``MLP(num_inputs, hidden_layers, num_outputs)`` with sigmoid everywhere, one
example at a time, with ``train(inputs, targets, epochs, learning_rate)``.
This script trains two networks of the same shape, ``MLP(1, [3], 1)``, on
``y = 1 - x`` (``numnet.datasets.one_minus_x``), the tutorial's way:

- the tutorial's exact network: no biases, weights uniform on [0, 1)
  (``bias=False, init="uniform"``);
- numnet's defaults: biases, Glorot initialisation.

``train`` prints the tutorial's lines (``Epoch: 1  Error: ...``) and, at the
end, the baseline: the error of always answering the training targets' mean.
Then both networks are scored on 1,000 new points, beside the baseline's
error on them. A network that does not beat the baseline learned nothing.

Run ``python examples/tutorial_toy.py`` (1,000 examples, 50 epochs: the
tutorial's settings) or ``--quick`` (100 examples, 10 epochs).
"""

from __future__ import annotations

import argparse

from numnet import MLP, mse
from numnet.baselines import baseline_loss, learned_nothing
from numnet.datasets import one_minus_x

NETWORKS = {
    "the tutorial's network": {"bias": False, "init": "uniform"},
    "numnet's defaults": {},
}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="100 examples and 10 epochs (a few seconds)")
    parser.add_argument("--samples", type=int, help="training examples (default 1000)")
    parser.add_argument("--epochs", type=int, help="epochs of train (default 50)")
    parser.add_argument("--lr", type=float, default=0.1,
                        help="train's learning rate, on the tutorial's scale (default 0.1)")
    parser.add_argument("--hidden", type=int, nargs="*", default=[3],
                        help="hidden layer widths (default: 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    samples = args.samples or (100 if args.quick else 1000)
    epochs = args.epochs or (10 if args.quick else 50)

    X, y = one_minus_x(samples, random_state=args.seed)            # (samples, 1) each
    X_test, y_test = one_minus_x(1000, random_state=args.seed + 1)  # new points
    baseline = baseline_loss(y, "mse", y_test)     # the training mean, scored on X_test

    errors = {}
    for name, options in NETWORKS.items():
        mlp = MLP(1, args.hidden, 1, random_state=args.seed, **options)
        print(f"--- {name}: {mlp!r}, {mlp.num_parameters} parameters")
        mlp.train(X, y, epochs, args.lr)
        errors[name] = mse(y_test, mlp.forward(X_test))

    print()
    for name, error in errors.items():
        verdict = "learned nothing" if learned_nothing(error, baseline) else \
            f"{baseline / error:.1f} times below the baseline"
        print(f"{name:<23} test error {error:.4f} ({verdict})")
    print(f"{'baseline':<23} test error {baseline:.4f} (always the training targets' mean)")
    tutorial, defaults = errors.values()
    print(f"result: test error {tutorial:.4f} for the tutorial's network, {defaults:.4f} for "
          f"numnet's defaults, baseline {baseline:.4f}")
    return errors


if __name__ == "__main__":
    main()
