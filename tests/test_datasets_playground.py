"""The playground's data sets: circles, gaussians, the sampled xor, and noise on every set.

Shapes, classes, determinism per seed and what noise does, in numnet.datasets
and through the command line's data path (numnet.cli.data); the sets that
existed before keep their seeded output bit for bit (digests recorded before
noise was added).
"""

import hashlib

import numpy as np
import pytest

from numnet import datasets

pytest.importorskip("pandas")                           # the cli extra, for numnet.cli.data
from numnet.cli import data  # noqa: E402

NEW = {"circles": datasets.circles, "gaussians": datasets.gaussians}


def _digest(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
                          ).hexdigest()


@pytest.mark.parametrize("name", NEW)
def test_new_sets_are_two_balanced_classes_in_two_dimensions(name):
    X, y = NEW[name](101, random_state=0)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.shape == (101,)
    assert y.dtype.kind == "i" and sorted(set(y.tolist())) == [0, 1]
    assert (y == 0).sum() == 50                           # half, rounded down, are class 0
    assert not np.array_equal(y, np.sort(y))              # in random order


@pytest.mark.parametrize("name", [*NEW, "xor"])
def test_same_seed_same_data_other_seed_other_data(name):
    make = NEW.get(name, datasets.xor)
    a, b, c = (make(n_samples=60, noise=0.1, random_state=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    rng = np.random.default_rng(5)                        # a Generator works as a seed too
    np.testing.assert_array_equal(make(n_samples=60, noise=0.1, random_state=rng)[0],
                                  make(n_samples=60, noise=0.1, random_state=5)[0])


def test_circles_is_a_disc_inside_a_ring():
    X, y = datasets.circles(2000, noise=0.0, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0].max() < 0.5 and r[y == 1].min() >= 0.7 and r[y == 1].max() < 1.0
    X, y = datasets.circles(2000, noise=0.0, factor=0.3, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0].max() < 0.3 and r[y == 1].min() >= 0.3 + 0.4 * 0.7
    # noise moves points off their class's band: at 0.2 some cross the 0.5-0.7 gap
    X, y = datasets.circles(2000, noise=0.2, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert (r[y == 0] > 0.6).any() and (r[y == 1] < 0.6).any() and (r > 1.0).any()


def test_gaussians_noise_widens_the_clouds():
    stds = []
    for noise in (0.0, 0.1, 0.5):
        X, y = datasets.gaussians(4000, noise=noise, random_state=0)
        np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.06)
        np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.06)
        stds.append(np.concatenate([X[y == 0] + 1, X[y == 1] - 1]).std())
    # the documented standard deviations sqrt(0.125 + 1.75 * noise): 0.354, 0.548, 1.0
    np.testing.assert_allclose(stds, [0.354, 0.548, 1.0], rtol=0.05)


def test_xor_without_arguments_is_still_the_four_points():
    X, y = datasets.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert X.dtype == np.float64 and y.tolist() == [0, 1, 1, 0]
    X2, y2 = datasets.get_dataset("xor")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    with pytest.raises(ValueError, match="give n_samples too") as err:
        datasets.xor(noise=0.1)
    assert "\n" not in str(err.value)


def test_sampled_xor_is_labelled_by_the_signs_and_noise_jitters_it():
    X, y = datasets.xor(500, random_state=0)
    assert X.shape == (500, 2) and y.shape == (500,)
    assert (X >= -1).all() and (X < 1).all()
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    assert 0.4 < y.mean() < 0.6                                 # both classes, about half each
    Xn, yn = datasets.xor(500, noise=0.2, random_state=0)
    np.testing.assert_array_equal(yn, y)                        # labels of the points as drawn
    assert 0.18 < (Xn - X).std() < 0.22                         # the jitter's std is the noise


@pytest.mark.parametrize("name, seed, digest", [
    ("one_minus_x", 0, "d3323385946d762dc24460dfa4e85548cc507a3f00dc48dc6099e431abe3b061"),
    ("one_minus_x", 7, "3c370f59ea674e181328ccf8c95eb77dc47be4f9f2441f88a4fa1739dd01e143"),
    ("sum_of_two", 0, "03940aa9fc910415249e8435071dc04480df52cba1e7ed2de67d37fa56a86695"),
    ("sum_of_two", 7, "ed77c0207766417d6245ab800afa8727423b643b09389ac50cc034618f847b90"),
])
def test_tutorial_sets_without_noise_are_bit_identical_to_before(name, seed, digest):
    make = getattr(datasets, name)
    for X, y in (make(50, random_state=seed), make(50, random_state=seed, noise=0.0)):
        assert _digest(X, y) == digest
    # nothing is drawn for the noise: a shared Generator is left where it was before
    rng = np.random.default_rng(seed)
    make(50, random_state=rng)
    expected = np.random.default_rng(seed)
    expected.random((50, 1 if name == "one_minus_x" else 2))
    assert rng.random() == expected.random()


@pytest.mark.parametrize("name", ["one_minus_x", "sum_of_two"])
def test_tutorial_sets_noise_is_on_the_targets(name):
    make = getattr(datasets, name)
    X, y = make(4000, random_state=1)
    Xn, yn = make(4000, random_state=1, noise=0.1)
    np.testing.assert_array_equal(Xn, X)                        # the inputs as without noise
    assert yn.shape == y.shape
    assert 0.095 < (yn - y).std() < 0.105 and abs((yn - y).mean()) < 0.01


# Every generator: its arguments checked, errors one line naming the argument.
GENERATORS = sorted(set(datasets.DATASETS) - {"tones"})


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("kwargs, error, said", [
    ({"n_samples": 0}, ValueError, "n_samples"),
    ({"n_samples": 2.5}, TypeError, "n_samples"),
    ({"n_samples": 10, "noise": -0.1}, ValueError, "noise"),
    ({"n_samples": 10, "noise": float("nan")}, ValueError, "noise"),
    ({"n_samples": 10, "noise": "lots"}, TypeError, "noise"),
])
def test_bad_arguments_are_one_line_errors(name, kwargs, error, said):
    with pytest.raises(error, match=said) as err:
        datasets.get_dataset(name, random_state=0, **kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("factor", [0.0, 1.0, -0.5, 2.0])
def test_circles_factor_is_a_fraction(factor):
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\)"):
        datasets.circles(10, factor=factor)


# The command line's data path -----------------------------------------------------------

# data.fingerprint of data.load_table(name, n_samples=1000 (8 for tones), random_state=0),
# recorded before noise, arms, circles and gaussians were added: what numnet train makes of
# each set without --noise or --arms, so a model's --resume still finds its data.
BEFORE = {"one_minus_x": "a9c5f6727bd45e0e", "sum_of_two": "088bc4314d3aa316",
          "xor": "421ce8ccdf7a803f", "sine": "ba174155e42faf96",
          "spirals": "f71ba9823d3fd176", "moons": "c16ba5c3b83d87b3",
          "tones": "633149ffdab60536"}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_command_lines_sets_are_as_before_without_noise(name):
    table = data.load_table(name, n_samples=8 if name == "tones" else 1000, random_state=0)
    assert data.fingerprint(table)[:16] == BEFORE[name]


def test_the_new_sets_are_built_in():
    for name in ("circles", "gaussians"):
        assert name in data.GENERATED and name in data.BUILTIN
        assert name in data.describe_sources() and name in datasets.__all__
        table = data.load_table(name, n_samples=30, random_state=0)
        assert table.feature_names == ["x0", "x1"] and table.target_names == ["y"]
        assert table.X.shape == (30, 2) and sorted(set(table.y.tolist())) == [0, 1]


@pytest.mark.parametrize("name", sorted(set(data.GENERATED) - {"xor"}))
def test_noise_changes_every_generated_set_and_its_default_changes_nothing(name):
    n = 8 if name == "tones" else 40
    default = data.generator_options(name, n)["noise"]
    same = data.load_table(name, n_samples=n, random_state=0)
    explicit = data.load_table(name, n_samples=n, random_state=0, noise=default)
    other = data.load_table(name, n_samples=n, random_state=0, noise=default + 0.3)
    assert data.fingerprint(explicit) == data.fingerprint(same)
    assert data.fingerprint(other) != data.fingerprint(same)
    assert other.X.shape == same.X.shape


def test_xor_on_the_command_line_is_sampled_only_when_noise_is_given():
    assert data.load_table("xor", n_samples=1000, random_state=0).n_samples == 4
    assert data.generator_options("xor", 1000) == {}
    sampled = data.load_table("xor", n_samples=50, random_state=0, noise=0.0)
    X, y = datasets.xor(50, random_state=0)
    np.testing.assert_array_equal(sampled.X, X)
    np.testing.assert_array_equal(sampled.y, y)
    noisy = data.load_table("xor", n_samples=50, random_state=0, noise=0.2)
    assert data.fingerprint(noisy) != data.fingerprint(sampled)


def test_arms_are_the_classes_of_spirals():
    assert data.generator_options("spirals", 10) == {"n_samples": 10, "noise": 0.1,
                                                     "n_classes": 2}
    table = data.load_table("spirals", n_samples=40, random_state=0, arms=4)
    assert sorted(set(table.y.tolist())) == [0, 1, 2, 3]
    two = data.load_table("spirals", n_samples=40, random_state=0)
    assert sorted(set(two.y.tolist())) == [0, 1]


@pytest.mark.parametrize("source, kwargs, said", [
    ("moons", {"arms": 3}, "arms sets the classes of spirals only; moons has its own classes"),
    ("iris", {"noise": 0.1}, "noise applies to a generated data set"),
    ("iris", {"arms": 3}, "arms applies to a generated data set"),
    ("FILE", {"noise": 0.1}, "has its own rows: leave noise out"),
    ("audio:FOLDER", {"arms": 2}, "has its own rows: leave arms out"),
])
def test_noise_and_arms_where_they_do_not_apply_are_one_line_errors(tmp_path, source, kwargs,
                                                                    said):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,2\n3,4\n")
    source = source.replace("FILE", str(path)).replace("FOLDER", str(tmp_path))
    with pytest.raises(data.DataError, match=said) as err:
        data.load_table(source, n_samples=10, random_state=0, **kwargs)
    assert "\n" not in str(err.value)
