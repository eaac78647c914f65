"""Built-in data sets: shapes, ranges, seeds; CSV and NPZ loading."""

import numpy as np
import pytest

from numnet import datasets


def test_tutorial_sets():
    X, y = datasets.one_minus_x(100, random_state=0)
    assert X.shape == y.shape == (100, 1)
    assert (X >= 0).all() and (X < 1).all()
    np.testing.assert_allclose(y, 1 - X)
    X, y = datasets.sum_of_two(50, random_state=0)
    assert X.shape == (50, 2) and y.shape == (50, 1)
    assert (X < 0.5).all() and (X >= 0).all()
    np.testing.assert_allclose(y[:, 0], X.sum(axis=1))


def test_seeds():
    a, _ = datasets.one_minus_x(10, random_state=3)
    b, _ = datasets.one_minus_x(10, random_state=3)
    c, _ = datasets.one_minus_x(10, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_other_sets():
    X, y = datasets.xor()
    assert X.shape == (4, 2) and y.tolist() == [0, 1, 1, 0]
    X, y = datasets.sine(30, random_state=0)
    np.testing.assert_allclose(y, np.sin(X))
    X, y = datasets.spirals(90, n_classes=3, random_state=0)
    assert X.shape == (90, 2) and set(y.tolist()) == {0, 1, 2}
    X, y = datasets.get_dataset("sine", n_samples=5, random_state=0)
    assert X.shape == (5, 1)
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.get_dataset("mnist")
    with pytest.raises(ValueError, match="n_samples"):
        datasets.one_minus_x(0)


def test_csv_and_npz(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,target\n1,2,3\n4,5,9\n")
    X, y = datasets.load_csv(path)
    np.testing.assert_array_equal(X, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(y, [[3], [9]])
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,x,9\n")
    with pytest.raises(ValueError, match="non-numeric"):
        datasets.load_csv(bad)
    npz = tmp_path / "data.npz"
    np.savez(npz, X=X, y=y)
    X2, y2 = datasets.load_npz(npz)
    np.testing.assert_array_equal(X2, X)
    with pytest.raises(ValueError, match="missing"):
        datasets.load_npz(npz, y_key="labels")
