"""Gradient clipping by global norm and by value, in every optimizer (clip_norm=, clip_value=)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from numnet import MLP, datasets, engine, fit, optimizers

OPTIMIZERS = [optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop,
              optimizers.Adagrad]


def _grads(rng):
    return [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4) * 5]


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_step_with_clipping_is_a_step_on_the_clipped_gradient(cls):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = _grads(rng)
    before = [g.copy() for g in grads]
    clipped = [np.clip(g, -2.0, 2.0) for g in grads]
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in clipped))
    expected_grads = [g * (1.5 / norm) for g in clipped]          # norm > 1.5 here
    assert norm > 1.5

    clipping, plain = cls(0.1, clip_norm=1.5, clip_value=2.0), cls(0.1)
    got = [p.copy() for p in params]
    want = [p.copy() for p in params]
    clipping.step(got, grads)
    plain.step(want, expected_grads)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for g, b in zip(grads, before, strict=True):                  # the caller's arrays
        np.testing.assert_array_equal(g, b)


def test_a_gradient_under_the_norm_is_left_alone():
    rng = np.random.default_rng(1)
    params = [rng.standard_normal(5)]
    grads = [np.full(5, 0.1)]
    a, b = params[0].copy(), params[0].copy()
    optimizers.SGD(0.1, clip_norm=10.0).step([a], grads)
    optimizers.SGD(0.1).step([b], grads)
    np.testing.assert_array_equal(a, b)


def test_clipping_keeps_a_run_with_a_high_rate_on_track():
    """Measured (sum_of_two with targets x30, MLP(2, [16], 1) relu, SGD 0.05, batch 8, 30
    epochs, seeds 0-4): final loss 1.6-7.3 without clipping, 0.031-0.036 with clip_norm=1."""
    X, y = datasets.sum_of_two(500, random_state=0)
    final = {}
    for clip in (None, 1.0):
        net = MLP(2, [16], 1, activation="relu", output_activation="identity", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = fit(net, X, y * 30, optimizer=optimizers.SGD(0.05, clip_norm=clip),
                          epochs=30, batch_size=8, verbose=False, random_state=0)
        final[clip] = history.loss[-1]
    assert final[1.0] < 0.1 < 1.0 < final[None]


@pytest.mark.parametrize("batch_size", [1, 8])
def test_every_runner_that_is_chosen_clips_as_the_reference_does(batch_size):
    X, y = datasets.sum_of_two(64, random_state=1)

    def trained(prefer):
        net = MLP(2, [6], 1, activation="tanh", output_activation="identity", random_state=0)
        with engine.preferred_runner(prefer):
            history = fit(net, X, y * 30, optimizer=optimizers.Adam(0.01, clip_norm=0.5),
                          batch_size=batch_size, epochs=3, verbose=False, random_state=0)
        return net.flat_parameters, history.runner

    (auto, runner), (reference, _) = trained("auto"), trained("numpy")
    assert runner in ("buffered", "reference")       # compiled loops update as they go
    np.testing.assert_allclose(auto, reference, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="compiled"):
        trained("compiled")


def test_clipping_is_in_the_config_and_the_state_and_absent_when_unset():
    opt = optimizers.Adam(0.01, clip_norm=1.0, clip_value=0.5)
    config = opt.get_config()
    assert config["clip_norm"] == 1.0 and config["clip_value"] == 0.5
    assert "clip_norm" not in optimizers.Adam(0.01).get_config()
    rng = np.random.default_rng(2)
    p = [rng.standard_normal(4)]
    opt.step(p, [rng.standard_normal(4)])
    fresh = optimizers.Adam(0.01)
    fresh.load_state_dict(opt.state_dict())
    assert (fresh.clip_norm, fresh.clip_value, fresh.t) == (1.0, 0.5, 1)
    assert fresh.kernel_spec() is None and fresh.linear_rate() is None


def test_a_checkpoint_resumes_with_its_clipping(tmp_path):
    X, y = datasets.sum_of_two(64, random_state=1)
    path = tmp_path / "ckpt.safetensors"
    from numnet.callbacks import ModelCheckpoint

    net = MLP(2, [4], 1, random_state=0)
    fit(net, X, y, optimizer=optimizers.SGD(0.1, clip_value=0.01), epochs=2, verbose=False,
        callbacks=[ModelCheckpoint(path)], random_state=0)
    from numnet.io import load_checkpoint

    state = load_checkpoint(path).optimizer_state
    resumed = optimizers.SGD(0.1)
    resumed.load_state_dict(state)
    assert resumed.clip_value == 0.01 and resumed.clip_norm is None
    history = fit(net, X, y, resume_from=path, epochs=3, verbose=False)
    assert history.epochs == 3 and history.runner == "buffered"


@pytest.mark.parametrize("kwargs, match", [({"clip_norm": 0.0}, "clip_norm"),
                                           ({"clip_value": -1.0}, "clip_value"),
                                           ({"clip_norm": "big"}, "clip_norm")])
def test_bad_clipping_is_refused_in_one_line(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match) as info:
        optimizers.SGD(0.1, **kwargs)
    assert "\n" not in str(info.value)
