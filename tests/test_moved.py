"""Old import paths (numnet.files, numnet.fitting, numnet.data) still work, and say where to go.

Each case runs in a fresh interpreter: a module warns when first imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from numnet._moved import MOVED

SCRIPT = """
import importlib, json, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import {old}
    {import_sub}
old, sub = sys.modules[{old!r}], sys.modules.get({old_sub!r})
new = importlib.import_module({new!r})
new_sub = importlib.import_module({new_sub!r}) if {new_sub!r} else None
print(json.dumps({{
    "same": old is new, "same_sub": sub is new_sub,
    "warnings": [(w.category.__name__, str(w.message), w.filename) for w in caught],
}}))
"""

SUBMODULES = {"numnet.files": "format", "numnet.fitting": "callbacks", "numnet.data": None}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_gives_the_same_module_with_one_future_warning(old, tmp_path):
    new, advice = MOVED[old]
    sub = SUBMODULES[old]
    script = SCRIPT.format(old=old, new=new, old_sub=f"{old}.{sub}" if sub else "",
                           new_sub=f"{new}.{sub}" if sub else "",
                           import_sub=f"from {old}.{sub} import *" if sub else "pass")
    path = tmp_path / "uses_old_path.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    got = json.loads(out.stdout)
    assert got["same"] and got["same_sub"]
    [(category, message, filename)] = got["warnings"]    # one, for the package, not its parts
    assert category == "FutureWarning"
    assert message == f"{old} is deprecated and will be removed; import {advice}"
    assert filename == str(path)                          # attributed to the user's line


def test_old_paths_cover_what_was_imported_from_them():
    """The names a user imported from the old paths are still there."""
    import numnet._files
    import numnet._fitting
    import numnet.cli.data

    assert {"save", "load", "save_checkpoint", "load_checkpoint", "FormatError",
            "ModelCheckpoint"} <= set(numnet._files.__all__)
    assert {"fit", "evaluate", "History", "Run", "EarlyStopping", "TrainingWarning"} <= \
        set(numnet._fitting.__all__)
    assert {"load_table", "Table", "DataError"} <= set(numnet.cli.data.__all__)


def test_numnet_itself_never_imports_an_old_path():
    """Importing every module of numnet warns nothing (an internal old path would)."""
    code = ("import importlib, pkgutil, warnings\n"
            "warnings.simplefilter('error', FutureWarning)\n"
            "import numnet\n"
            "for m in pkgutil.walk_packages(numnet.__path__, 'numnet.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
