"""``numnet predict``: a saved model's predictions, one row per input row or audio file.

Printed predictions are display text: names read from the model (labels,
column names) have their control characters escaped. The CSV that ``--out``
writes is data: it holds the labels exactly as the model has them.

Audio files (a model trained on ``audio:FOLDER``) give one line per file, in
the order given: ``file,label`` (with ``--proba``, then the label's
probability and each class's), and an ``error`` column that says why a file
gave no prediction; the other files get theirs all the same, and the command
then exits with status 1. In ``--out`` file names are written as they are (bytes
that are not UTF-8 kept as they were); on the terminal they are escaped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click
import numpy as np

from numnet._files import atomic_write
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    MODEL_GENERATION,
    CliError,
    audio_settings,
    file_input,
    generated,
    load_model,
    model_table,
    parse_floats,
    refuse_generation,
    refuse_unless,
    user_errors,
)
from .outputs import check_outputs

EXAMPLE = """
\b
Examples:
  numnet predict iris.safetensors new_flowers.csv --out predictions.csv --proba
  numnet predict iris.safetensors --values 5.1,3.5,1.4,0.2
  numnet predict sounds.safetensors clip.wav other.wav      (a model trained on audio:)
"""

# numnet.audio.AUDIO_EXTENSIONS (tested equal): the command line works without the extra
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                  ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64")


def _is_audio(path: str) -> bool:
    return path.lower().endswith(AUDIO_SUFFIXES)


def _predict_audio(model: Any, paths: list[str], proba: bool, out: str | None) -> None:
    """One line per file (module docstring); :class:`CliError` at the end if any failed."""
    stored = model.metadata.get("audio")
    if stored is None:
        raise CliError("this model was not trained on audio (no audio feature settings in "
                       "it); give a data file or --values")
    try:
        from numnet import audio  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        raise ImportError("audio input needs the audio extra: pip install 'numnet[audio]'"
                          ) from exc
    try:
        settings = audio.FeatureSettings.from_dict(stored)
    except (TypeError, ValueError) as exc:
        raise CliError(f"the model's audio feature settings are not valid: {exc}") from None
    results: list[Any] = []                 # audio.FileFeatures, or None: still to read
    for path in paths:
        kind = data.file_kind(path)
        if not _is_audio(path):
            why = f"is not an audio file numnet reads ({', '.join(AUDIO_SUFFIXES)})"
            results.append(audio.FileFeatures(Path(path), None, why))
        elif kind is not None:
            why = f"is {kind}, not an audio file"
            results.append(audio.FileFeatures(Path(path), None, why))
        else:
            results.append(None)
    found = iter(audio.features_by_file([p for p, r in zip(paths, results, strict=True)
                                         if r is None], settings, progress=None))
    results = [next(found) if r is None else r for r in results]
    good = [r for r in results if r.features is not None]
    labels: list[Any] = []
    P = None
    if good:
        X = np.array([r.features for r in good])
        labels = list(model.predict(X))
        P = model.predict_proba(X) if proba else None
    header = ["file", "label"] + (["probability"] + [f"p({c})" for c in model.classes]
                                  if proba else []) + ["error"]
    rows, k = [], 0
    for path, r in zip(paths, results, strict=True):
        if r.features is None:
            rows.append([path, "", *([""] * (len(header) - 3)), r.problem])
            continue
        row = [path, labels[k]]
        if P is not None:
            row += [P[k, list(model.classes).index(labels[k])], *P[k]]
        rows.append([*row, ""])
        k += 1
    failed = [(p, r.problem) for p, r in zip(paths, results, strict=True) if r.features is None]
    if out:
        atomic_write(out, _csv([header, *rows]).encode("utf-8", "surrogateescape"))
        click.echo(f"wrote {len(good)} prediction(s) to {out}", err=True)
    else:
        shown = [[printable(v) if isinstance(v, str) else _number(v) for v in row]
                 for row in [header, *rows]]
        click.echo(_csv(shown), nl=False)
    if failed:
        path, problem = failed[0]
        raise CliError(f"{len(failed)} of {len(paths)} audio file(s) gave no prediction (the "
                       f"error column says why), e.g. {printable(path)}: {problem}")


def _number(value: Any) -> str:
    """A label or probability as CSV text: floats with all their digits."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return printable(str(value))


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([[_number(v) if isinstance(v, (float, np.floating)) else v for v in row]
                      for row in rows])
    return buffer.getvalue()


def _frame(model: Any, pred: np.ndarray, proba: np.ndarray | None, names: list[str]) -> Any:
    """The predictions as a DataFrame: one row per input row."""
    import pandas as pd  # the cli extra: data.load_table needed it already
    prep = model.preprocessing
    if model.is_classifier:
        frame = pd.DataFrame({prep.target_names[0]: pred})
        if proba is not None:
            for k, label in enumerate(model.classes):
                frame[f"p({label})"] = proba[:, k]
    else:
        frame = pd.DataFrame(np.asarray(pred).reshape(len(pred), -1), columns=names)
    return frame


@click.command(epilog=EXAMPLE + "\n" + DATA_HELP)
@click.argument("model")
@click.argument("inputs", nargs=-1, metavar="[DATA | AUDIO_FILE ...]")
@click.option("--values", default=None, metavar="V1,V2,...",
              help="One sample's raw feature values, comma-separated, in the model's "
                   "feature order (see numnet info).")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Write the predictions to this CSV file instead of printing them.")
@click.option("--proba", is_flag=True, help="Add each class's probability (classification).")
@click.option("--id", "id_column", default=None, metavar="COLUMN",
              help="Carry this column of DATA (a file) into the predictions, first, as it "
                   "is: e.g. a customer or sample ID.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Rows of a generated data set (refused for other DATA).")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0),
              help="Seed of a generated data set (refused for other DATA).")
@MODEL_GENERATION["noise"]
@MODEL_GENERATION["arms"]
@user_errors
def predict(model, inputs, values, out, proba, id_column, samples, seed, noise, arms):
    """Predict with the model in file MODEL: for every row of DATA, or one sample.

    Prints CSV (or writes it with --out): the predicted label, with the names
    the model was trained on, or the predicted value(s) in the data's units.
    The model's preprocessing is applied to the raw features first. Audio
    files (a model trained on audio:FOLDER) give one line each: the file, its
    label (--proba: its probability and each class's) and an error column; a
    file that cannot be read gets its reason there, the others their
    predictions, and the exit status is then 1. A generated set is made as the
    model was trained on it (its noise and arms), unless --noise or --arms says
    otherwise.
    """
    if values is not None and inputs:
        raise CliError("give DATA or --values, not both")
    if values is None and inputs and all(data.is_number(v) for v in inputs):
        values = ",".join(inputs)                   # the earlier form: predict MODEL 0.1 0.2
        inputs = ()
    audio_files = any(_is_audio(p) for p in inputs)
    sources = {"DATA": file_input(inputs[0])} if len(inputs) == 1 and not audio_files else {
        f"DATA ({p})": p for p in inputs}
    check_outputs({"--out": out}, {"MODEL": model, **sources})
    source = inputs[0] if len(inputs) == 1 else None
    for option in ("--samples", "--seed"):
        refuse_unless(generated(source), option,
                      f"chooses the rows of a generated data set "
                      f"({', '.join(data.GENERATED)}); "
                      + ("--values is one sample" if values is not None else
                         f"{' '.join(inputs) or 'no DATA'} has its own rows"))
    refuse_generation(source, None if source is not None else "--values is one sample"
                      if values is not None else
                      f"{printable(' '.join(inputs)) or 'no DATA'} has its own rows")
    reads_a_file = (source is not None and not audio_files and file_input(source) is not None
                    and not source.startswith(data.AUDIO_PREFIX))
    if id_column is not None and not reads_a_file:
        raise CliError("--id names a column of a DATA file (CSV, TSV, Parquet, NPZ), and "
                       "there is none here; leave it out")
    m = load_model(model)
    prep = m.preprocessing
    if proba and not m.is_classifier:
        raise CliError("--proba gives class probabilities, and this model is a regression "
                       "model (it predicts values); leave out --proba")
    if values is not None:
        X = np.asarray([parse_floats(values)])
        if X.shape[1] != prep.n_features:
            raise CliError(f"--values has {X.shape[1]} value(s) but the model takes "
                           f"{prep.n_features} feature(s): {', '.join(prep.feature_names)}")
    elif not inputs:
        raise CliError("give DATA (a file or data set), audio file(s) or --values V1,V2,...")
    elif audio_files:
        _predict_audio(m, list(inputs), proba, out)
        return
    elif len(inputs) > 1:
        raise CliError(f"give one DATA source, got {len(inputs)}: {' '.join(inputs)}")
    else:
        source = inputs[0]
        if source.startswith(data.AUDIO_PREFIX):
            table = data.load_table(source, audio_settings=audio_settings(m, source))
        else:
            table = model_table(m, source, None, samples, seed, need_target=False,
                                ids=id_column, noise=noise, arms=arms)
        X = table.X
    pred = m.predict(X)
    P = m.predict_proba(X) if proba else None
    frame = _frame(m, pred, P, prep.target_names)
    if id_column is not None:
        if id_column in frame.columns:
            raise CliError(f"--id {printable(id_column)}: the predictions have a column of "
                           f"that name already; give another column")
        frame.insert(0, id_column, table.ids)
    if out:
        atomic_write(out, frame.to_csv(index=False).encode("utf-8"))   # whole or not at all
        click.echo(f"wrote {len(frame)} prediction(s) to {out}", err=True)
        return
    shown = frame.rename(columns=printable)
    for column in shown.columns:      # labels read from the model: displayed, escaped
        if shown[column].dtype.kind not in "biufc":
            shown[column] = shown[column].map(printable)
    if values is not None:
        click.echo(" ".join(f"{c}={v}" if len(shown.columns) > 1 else str(v)
                            for c, v in zip(shown.columns, shown.iloc[0].tolist(),
                                            strict=True)))
        return
    click.echo(shown.to_csv(index=False), nl=False)
