"""numnet.data: files by suffix and header names, built-in sets, clear errors."""

import numpy as np
import pandas as pd
import pytest

from numnet import data, datasets


def frame():
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "flag": [True, False, True, False],
                         "b": [0, 1, 0, 1], "label": ["x", "y", "x", "y"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".npz"])
def test_every_format_reads_the_same_table(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    f = frame()
    if suffix == ".csv":
        f.to_csv(path, index=False)
    elif suffix == ".tsv":
        f.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        f.to_parquet(path)
    else:
        np.savez(path, **{c: f[c].to_numpy(dtype=str if c == "label" else None) for c in f})
    table = data.load_table(str(path), ["label"])
    assert table.feature_names == ["a", "flag", "b"] and table.target_names == ["label"]
    np.testing.assert_array_equal(table.X, [[1, 1, 0], [2, 0, 1], [3, 1, 0], [4, 0, 1]])
    assert table.y.tolist() == ["x", "y", "x", "y"]
    table = data.load_table(str(path), ["b"], ["a"])
    assert table.X.shape == (4, 1) and table.y.dtype == np.int64


def test_npz_with_X_and_y(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 0]))
    table = data.load_table(str(tmp_path / "d.npz"))
    assert table.feature_names == ["x0", "x1"] and table.target_names == ["y"]


def test_default_target_and_headerless_csv(tmp_path):
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    assert data.load_table(str(path)).target_names == ["label"]         # the last column
    path.write_text("0.1,0.9\n0.2,0.8\n")
    with pytest.warns(UserWarning, match="no header row"):
        table = data.load_table(str(path))
    assert table.feature_names == ["x0"] and table.y.tolist() == [0.9, 0.8]


def test_a_saved_index_column_is_pointed_out(tmp_path):
    path = tmp_path / "d.csv"
    frame().to_csv(path)                                   # index=True: a nameless column
    with pytest.warns(UserWarning, match="have no name in the header .Unnamed: 0."):
        data.read_frame(path)


def test_builtin_sets_have_named_columns():
    iris = data.load_table("iris")
    assert iris.X.shape == (150, 4) and "petal length (cm)" in iris.feature_names
    assert sorted(set(iris.y)) == ["setosa", "versicolor", "virginica"]
    moons = data.load_table("moons", n_samples=50, random_state=0)
    assert moons.feature_names == ["x0", "x1"] and set(moons.y.tolist()) == {0, 1}
    assert data.load_table("diabetes").y.dtype == np.float64
    with pytest.raises(data.DataError, match="did you mean 'spirals'"):
        data.load_table("spiral")


def test_moons_is_seeded_and_balanced():
    X, y = datasets.moons(101, random_state=0)
    X2, y2 = datasets.moons(101, random_state=0)
    np.testing.assert_array_equal(X, X2)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    clean, labels = datasets.moons(200, noise=0.0, random_state=1)
    upper = clean[labels == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)


def test_problems_name_the_column_and_the_fix(tmp_path):
    path = tmp_path / "d.csv"
    f = frame()
    f["name"] = ["p", "q", "r", "s"]
    f.loc[2, "a"] = np.nan
    f.to_csv(path, index=False)
    with pytest.raises(data.DataError, match="'a' has 1 missing value.*row.s. 3"):
        data.load_table(str(path), ["label"])
    with pytest.raises(data.DataError, match="'name' is not numeric.*--features flag,b"):
        data.load_table(str(path), ["label"], ["flag", "name", "b"])
    with pytest.raises(data.DataError, match="both a feature and a target"):
        data.load_table(str(path), ["b"], ["b"])
    with pytest.raises(data.DataError, match="unknown file type .xlsx"):
        data.read_frame(tmp_path / "d.xlsx")
    with pytest.raises(data.DataError, match="Parquet"):
        (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
        data.read_frame(tmp_path / "bad.parquet")


def test_object_arrays_in_npz_are_refused(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 2)), y=np.array(["a", None], dtype=object))
    with pytest.raises(data.DataError, match="no object arrays"):
        data.read_frame(tmp_path / "d.npz")


def test_audio_without_the_module_names_the_extra(tmp_path, monkeypatch):
    import sys

    import numnet
    monkeypatch.setitem(sys.modules, "numnet.audio", None)        # as if not installed
    monkeypatch.delattr(numnet, "audio", raising=False)
    with pytest.raises(ImportError, match=r"numnet\[audio\]"):
        data.load_table(f"audio:{tmp_path}")
