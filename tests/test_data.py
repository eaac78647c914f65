"""numnet.cli.data: files by suffix and header names, built-in sets, clear errors."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")                      # the cli extra

from numnet import datasets  # noqa: E402
from numnet.cli import data  # noqa: E402


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
    pytest.importorskip("sklearn")        # iris comes with the sklearn extra
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


# --- what a file is, and what its header says ---------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".npz"])
def test_a_named_pipe_is_refused_without_opening_it(tmp_path, suffix):
    import os
    path = tmp_path / f"pipe{suffix}"
    os.mkfifo(path)                         # opening it would block: the check uses stat only
    assert data.file_kind(path) == "a named pipe (FIFO)"
    with pytest.raises(data.DataError, match=r"is a named pipe \(FIFO\), not a data file"):
        data.read_frame(path)
    assert data.file_kind(tmp_path) == "a directory"
    assert data.file_kind(tmp_path / "missing.csv") is None


def test_repeated_header_names_are_refused_when_used(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,a,b,label\n1,2,3,x\n4,5,6,y\n")
    with pytest.raises(data.DataError, match=r"'a' is columns 1, 2.*'a', 'a.1'.*--features b"):
        data.load_table(str(path))
    with pytest.raises(data.DataError, match="'a' is columns 1, 2"):
        data.load_table(str(path), ["label"], ["a"])       # which a? neither is guessed
    assert data.load_table(str(path), ["label"], ["b"]).feature_names == ["b"]
    parquet = tmp_path / "d.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array(["x", "y"])],
                            names=["a", "a", "label"]), parquet)
    with pytest.raises(data.DataError, match="'a' is columns 1, 2"):
        data.read_frame(parquet)


def test_a_column_named_twice_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    with pytest.raises(data.DataError, match="feature column 'a' is named more than once"):
        data.load_table(str(path), ["label"], ["a", "b", "a"])
    with pytest.raises(data.DataError, match="target column 'a' is named more than once"):
        data.load_table(str(path), ["a", "a"])


def test_npz_arrays_beside_X_and_y_are_pointed_out(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.array([0, 1, 0]), w=np.ones(3))
    with pytest.warns(UserWarning, match=r"array\(s\) w are not read"):
        data.read_frame(tmp_path / "d.npz")


def test_the_fingerprint_changes_with_any_value_name_or_order(tmp_path):
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    table = data.load_table(str(path), ["label"])
    same = data.load_table(str(path), ["label"])
    assert data.fingerprint(table) == data.fingerprint(same)
    changed = [data.Table(table.X.copy(), table.y, table.feature_names, ["label"], "t")
               for _ in range(3)]
    changed[0].X[0, 0] += 1e-9
    changed[1].X = table.X[::-1].copy()
    changed[2].feature_names = ["a", "b", "flag"]
    assert len({data.fingerprint(t) for t in [table, *changed]}) == 4
