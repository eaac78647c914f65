// The numnet playground's page: settings, the run's controls and its live pictures.
// Talks only to the server that served it (see the playground's contract for each call).

import { fitChart, fmt, gridImage, lossChart, networkChart, shapeAt, zColour } from "./draw.js";

const $ = (id) => document.getElementById(id);
const PAGE = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
  : `page-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
const TERMINAL = new Set(["finished", "stopped", "error"]);
const DATA_KEYS = ["dataset", "samples", "noise", "arms", "test_fraction", "upload_id", "target",
  "features", "seed"];
const NULLABLE = new Set(["output_activation", "loss", "init", "upload_id", "target", "features"]);
const DATASET_NAMES = {
  one_minus_x: "1 − x (1 input)", sum_of_two: "sum of two (2 inputs)", sine: "sine (1 input)",
  xor: "XOR", circles: "circles", gaussians: "two gaussians", spirals: "spirals", moons: "moons",
};

// The simple controls: element id, settings key, kind, name in messages.
const FIELDS = [
  ["dataset", "dataset", "text", "Data set"],
  ["samples", "samples", "int", "Samples"],
  ["noise", "noise", "float", "Noise"],
  ["arms", "arms", "int", "Arms"],
  ["test-fraction", "test_fraction", "float", "Held out"],
  ["output-activation", "output_activation", "nullable", "Output"],
  ["loss-function", "loss", "nullable", "Loss"],
  ["init", "init", "nullable", "Initial weights"],
  ["optimizer", "optimizer", "text", "Optimizer"],
  ["bias", "bias", "bool", "Biases"],
  ["batch-size", "batch_size", "int", "Batch size"],
  ["epochs", "epochs", "int", "Epochs"],
  ["l2", "l2", "float", "L2"],
  ["dropout", "dropout", "float", "Dropout"],
  ["seed", "seed", "int", "Seed"],
  ["learning-rate", "learning_rate", "positive", "Learning rate"],
];

const state = {
  options: null,     // GET /api/options
  settings: null,    // the page's settings: the contract's Settings object
  data: null,        // POST /api/data's answer for the settings' data
  upload: null,      // POST /api/upload's answer
  run: null,         // the current run (see newRun)
  runs: [],          // the rows of the runs table
  shapes: { units: [], links: [] },
};

// --- messages ------------------------------------------------------------------------------

function showError(message) {
  $("error").textContent = String(message || "Something went wrong; reload the page.");
  $("error-bar").hidden = false;
}

function clearError() {
  $("error").textContent = "";
  $("error-bar").hidden = true;
}

window.addEventListener("error", (e) => showError(`The page failed: ${e.message}. Reload it.`));
window.addEventListener("unhandledrejection", (e) => {
  showError(e.reason && e.reason.message ? e.reason.message : String(e.reason));
});

/** A call to the server: the answer's JSON, or an Error carrying the server's message. */
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error("Cannot reach the numnet server: is `numnet playground` still running? "
      + "Start it again, then reload this page.");
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    answer = null;
  }
  if (!response.ok) {
    if (answer && typeof answer.error === "string") throw new Error(answer.error);
    throw new Error(`The server answered ${response.status} ${response.statusText} `
      + `to ${method} ${path}; reload the page and try again.`);
  }
  if (answer === null || typeof answer !== "object") {
    throw new Error(`The server's answer to ${method} ${path} is not JSON; reload the page.`);
  }
  return answer;
}

const copy = (o) => JSON.parse(JSON.stringify(o));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// --- settings <-> controls ----------------------------------------------------------------

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  select.append(o);
  return o;
}

function fillSelects() {
  const o = state.options;
  const ds = $("dataset");
  ds.replaceChildren();
  for (const d of o.datasets) option(ds, d.name, DATASET_NAMES[d.name] || d.name.replaceAll("_", " "));
  for (const [id, names, none] of [["activation", o.activations, null],
    ["output-activation", o.output_activations, "default"],
    ["loss-function", o.losses, "default"],
    ["init", o.initializers, "default"], ["optimizer", o.optimizers, null]]) {
    const select = $(id);
    select.replaceChildren();
    if (none) option(select, "", none);
    for (const name of names) option(select, name, name.replaceAll("_", " "));
  }
  const mixed = option($("activation"), "", "mixed (per layer)");
  mixed.disabled = true;
  mixed.hidden = true;
  const L = o.limits || {};
  const range = (id, lo, hi) => {
    if (lo !== undefined) $(id).min = lo;
    if (hi !== undefined) $(id).max = hi;
  };
  range("samples", L.min_samples, L.samples);
  range("noise", 0, L.noise);
  range("arms", L.min_arms, L.max_arms);
  range("test-fraction", 0, L.test_fraction);
  range("epochs", 1, L.epochs);
  range("batch-size", 1, L.batch_size);
  range("dropout", 0, L.dropout);
  range("l2", 0, L.l2);
}

function datasetInfo(name) {
  return (state.options.datasets || []).find((d) => d.name === name) || null;
}

/** Write the settings into every control (the settings are the page's truth). */
function writeControls() {
  const s = state.settings;
  for (const [id, key, kind] of FIELDS) {
    const el = $(id);
    el.setAttribute("aria-invalid", "false");
    if (kind === "bool") el.checked = Boolean(s[key]);
    else el.value = s[key] === null || s[key] === undefined ? "" : String(s[key]);
  }
  const ds = $("dataset");
  let up = ds.querySelector("option[value=upload]");
  if (s.dataset === "upload" || state.upload) {
    if (!up) up = option(ds, "upload", "your file");
    up.textContent = state.upload ? `your file: ${state.upload.name}` : "your file";
    ds.value = s.dataset;
  }
  $("hidden-layers").value = s.hidden.join(",");
  $("hidden-layers").setAttribute("aria-invalid", "false");
  const acts = new Set(s.activation);
  $("activation").value = acts.size === 1 ? s.activation[0]
    : acts.size === 0 ? ($("activation").value || "tanh") : "";
  writeLayerList();
  writeDataControls();
}

function writeDataControls() {
  const s = state.settings;
  const info = datasetInfo(s.dataset);
  const generated = s.dataset !== "upload";
  $("samples").disabled = !generated;
  $("noise").disabled = !generated || (info && info.noise === false);
  $("arms-field").hidden = !(info && info.arms);
  $("regenerate").disabled = !generated;
  $("samples-value").textContent = s.samples;
  $("noise-value").textContent = s.noise;
  $("arms-value").textContent = s.arms;
  $("test-fraction-value").textContent = `${Math.round(s.test_fraction * 100)}%`;
  $("upload-fields").hidden = !(s.dataset === "upload" && state.upload);
  if (s.dataset === "upload" && state.upload) writeUploadFields();
}

function writeUploadFields() {
  const s = state.settings;
  const up = state.upload;
  $("upload-name").textContent = `${up.name}: ${up.rows} rows, ${up.columns.length} columns`;
  const target = $("target");
  target.replaceChildren();
  for (const c of up.columns) option(target, c, c);
  target.value = s.target || up.target;
  const box = $("features");
  box.querySelectorAll("div").forEach((d) => d.remove());
  const chosen = s.features || up.columns.filter((c) => c !== target.value);
  up.columns.forEach((c, i) => {
    if (c === target.value) return;          // the target is no feature
    const row = document.createElement("div");
    row.className = "check";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.id = `feature-${i}`;
    input.value = c;
    input.checked = chosen.includes(c);
    input.addEventListener("change", onFeaturesChanged);
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = c;
    row.append(input, label);
    box.append(row);
  });
}

function writeLayerList() {
  const s = state.settings;
  const list = $("layer-list");
  list.replaceChildren();
  s.hidden.forEach((width, i) => {
    const card = document.createElement("div");
    card.className = "layer-card";
    const title = document.createElement("span");
    title.className = "layer-title";
    title.textContent = `Layer ${i + 1}`;
    const w = document.createElement("input");
    w.type = "number";
    w.min = 1;
    w.max = (state.options.limits || {}).units || 64;
    w.step = 1;
    w.value = width;
    w.id = `layer-${i}-width`;
    w.dataset.testid = `layer-${i}-width`;
    w.setAttribute("aria-label", `Layer ${i + 1} width`);
    w.addEventListener("change", () => {
      const v = parseWhole(w.value);
      if (v === null || v < 1) {
        w.setAttribute("aria-invalid", "true");
        showError(`Layer ${i + 1}: write its width as a whole number of units, e.g. 8.`);
        return;
      }
      const hidden = [...state.settings.hidden];
      hidden[i] = v;
      update({ hidden });
    });
    const a = document.createElement("select");
    a.id = `layer-${i}-activation`;
    a.dataset.testid = `layer-${i}-activation`;
    a.setAttribute("aria-label", `Layer ${i + 1} activation`);
    for (const name of state.options.activations) option(a, name, name.replaceAll("_", " "));
    a.value = s.activation[i];
    a.addEventListener("change", () => {
      const activation = [...state.settings.activation];
      activation[i] = a.value;
      update({ activation });
    });
    card.append(title, w, a);
    list.append(card);
  });
  if (!s.hidden.length) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = "No hidden layer: the inputs feed the output directly.";
    list.append(p);
  }
  const L = state.options.limits || {};
  $("add-layer").disabled = s.hidden.length >= (L.layers || 6);
  $("remove-layer").disabled = s.hidden.length === 0;
}

function parseWhole(text) {
  const t = String(text).trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/** The control's value as its setting, or throws an Error naming what to write. */
function readField(id, kind, name) {
  const el = $(id);
  if (kind === "bool") return el.checked;
  const raw = el.value;
  if (kind === "text") return raw;
  if (kind === "nullable") return raw === "" ? null : raw;
  if (kind === "int") {
    const v = parseWhole(raw);
    if (v === null) throw new Error(`${name}: write a whole number, e.g. ${el.min || 0}.`);
    return v;
  }
  const v = Number(raw);
  if (String(raw).trim() === "" || !Number.isFinite(v)) {
    throw new Error(`${name}: write a number, e.g. ${kind === "positive" ? "0.03" : "0"}.`);
  }
  if (kind === "positive" && v <= 0) throw new Error(`${name}: write a number above 0, e.g. 0.03.`);
  return v;
}

function parseHidden(text) {
  const t = text.trim();
  if (t === "") return [];
  const parts = t.split(/[\s,]+/).filter((p) => p !== "");
  const widths = parts.map(parseWhole);
  if (widths.some((w) => w === null || w < 1)) {
    throw new Error("Hidden layers: write the widths as whole numbers separated by commas, "
      + "e.g. 8,8 (or leave it empty for no hidden layer).");
  }
  return widths;
}

/** The activations for new widths: each layer keeps its own, new layers take the
 *  `activation` control's. */
function activationsFor(hidden) {
  const all = $("activation").value || state.settings.activation.at(-1) || "tanh";
  return hidden.map((_, i) => state.settings.activation[i] || all);
}

/** Read every control into the settings; false (and the message shown) if one is invalid. */
function readAll() {
  const changes = {};
  try {
    for (const [id, key, kind, name] of FIELDS) {
      try {
        changes[key] = readField(id, kind, name);
        $(id).setAttribute("aria-invalid", "false");
      } catch (e) {
        $(id).setAttribute("aria-invalid", "true");
        throw e;
      }
    }
    const hidden = parseHidden($("hidden-layers").value);
    changes.hidden = hidden;
    changes.activation = activationsFor(hidden);
  } catch (e) {
    showError(e.message);
    return false;
  }
  update(changes);
  return true;
}

// --- the URL's hash: the whole state ------------------------------------------------------

function encodeHash(s) {
  const p = new URLSearchParams();
  for (const [key, v] of Object.entries(s)) {
    if (v === null || v === undefined) p.set(key, "");
    else if (key === "features") p.set(key, JSON.stringify(v));
    else if (Array.isArray(v)) p.set(key, v.join(","));
    else if (typeof v === "boolean") p.set(key, v ? "1" : "0");
    else p.set(key, String(v));
  }
  return p.toString();
}

/** Settings from a hash, over the defaults; unreadable values are named in the message. */
function decodeHash(hash, defaults) {
  const s = copy(defaults);
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const bad = [];
  for (const [key, raw] of p.entries()) {
    if (!(key in defaults)) continue;
    const d = defaults[key];
    if (NULLABLE.has(key) && raw === "") {
      s[key] = null;
    } else if (key === "features") {
      try {
        const v = JSON.parse(raw);
        if (Array.isArray(v) && v.every((x) => typeof x === "string")) s[key] = v;
        else bad.push(key);
      } catch {
        bad.push(key);
      }
    } else if (key === "hidden") {
      const v = raw === "" ? [] : raw.split(",").map(parseWhole);
      if (v.some((w) => w === null)) bad.push(key);
      else s[key] = v;
    } else if (key === "activation") {
      s[key] = raw === "" ? [] : raw.split(",");
    } else if (typeof d === "boolean") {
      s[key] = raw === "1" || raw === "true";
    } else if (typeof d === "number") {
      const v = Number(raw);
      if (raw === "" || !Number.isFinite(v)) bad.push(key);
      else s[key] = v;
    } else {
      s[key] = raw;
    }
  }
  if (s.activation.length !== s.hidden.length) {
    const fill = s.activation[0] || (defaults.activation[0] || "tanh");
    s.activation = s.hidden.map((_, i) => s.activation[i] || fill);
  }
  if (bad.length) {
    showError(`The address's ${bad.join(", ")} could not be read; the defaults are used there.`);
  }
  return s;
}

function writeHash() {
  const hash = `#${encodeHash(state.settings)}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// --- changes ------------------------------------------------------------------------------

/** Apply changed settings: the URL follows; a learning rate goes to the running training;
 *  anything else ends the run (its pictures would not match) and may need new data. */
function update(changes) {
  const before = state.settings;
  let after = { ...before, ...changes };
  if (after.dataset !== "upload") {          // a generated set has its own columns
    after = { ...after, upload_id: null, target: null, features: null };
  } else if (!after.upload_id && state.upload) {
    const up = state.upload;
    after = { ...after, upload_id: up.upload_id, target: up.target,
      features: up.columns.filter((c) => c !== up.target) };
  }
  const changed = Object.keys(after).filter((k) => !same(before[k], after[k]));
  if (!changed.length) {
    writeControls();
    return;
  }
  state.settings = after;
  writeHash();
  writeControls();
  if (changed.length === 1 && changed[0] === "learning_rate") {
    sendRate(after.learning_rate);
    return;
  }
  dropRun();
  if (changed.some((k) => DATA_KEYS.includes(k))) loadData();
  render(true);
}

async function sendRate(rate) {
  const r = state.run;
  if (!r || !r.id || TERMINAL.has(r.status)) return;
  try {
    await api("POST", `/api/runs/${encodeURIComponent(r.id)}/learning-rate`,
      { learning_rate: rate });
    r.rates.push(rate);
  } catch (e) {
    showError(e.message);
  }
}

function applySettings(s) {
  clearError();
  update(s);
}

let dataSeq = 0;
/** Fetch the data the settings give (the newest request wins). */
async function loadData() {
  const seq = ++dataSeq;
  const s = copy(state.settings);
  if (s.dataset === "upload" && !s.upload_id) {
    showError("Upload a CSV or TSV file first (Your own data), or choose a generated set.");
    return;
  }
  $("data-caption").textContent = "loading…";
  try {
    const data = await api("POST", "/api/data", s);
    if (seq !== dataSeq) return;
    state.data = data;
    state.dataSettings = s;
    describeData();
    render(true);
  } catch (e) {
    if (seq !== dataSeq) return;
    state.data = null;
    $("data-caption").textContent = "no data";
    render(true);
    showError(e.message);
  }
}

function describeData() {
  const d = state.data;
  const n = d.split.length;
  const held = d.split.filter((x) => x === "test").length;
  const what = d.classes ? `${d.classes.length} classes` : "regression";
  const more = d.feature_names.length > 2
    ? ` Drawn: the first two of ${d.feature_names.length} features.` : "";
  $("data-caption").textContent = `${n} rows (${held} held out, ringed), ${what}.${more}`;
  $("baseline").textContent = `Baseline loss ${fmt(d.baseline.loss)}: ${d.baseline.what}.`;
}

// --- runs ---------------------------------------------------------------------------------

function emptyRun(settings) {
  return {
    id: null, info: null, settings, status: "starting", reason: null, epoch: 0, train: [],
    val: [], last: null, snapshot: null, rate: null, rateChanges: [], source: null,
    seconds: 0, rates: [], recorded: false,
  };
}

/** Start a run on the server with the current settings (paused: waiting for step/resume). */
async function newRun(paused) {
  dropRun();
  const run = emptyRun(copy(state.settings));
  state.run = run;
  writeButtons();
  let info;
  try {
    info = await api("POST", "/api/runs", { page: PAGE, settings: run.settings, paused });
  } catch (e) {
    if (state.run === run) {
      state.run = null;
      writeButtons();
    }
    showError(e.message);
    return null;
  }
  run.id = info.run;
  run.info = info;
  if (state.run !== run) {            // reset or changed while the request was on its way
    api("POST", `/api/runs/${encodeURIComponent(run.id)}/stop`).catch(() => {});
    return null;
  }
  run.status = paused ? "paused" : "running";
  $("command").textContent = info.command;
  $("code").textContent = info.code;
  setDownloads(run.id);
  follow(run);
  writeButtons();
  render(true);
  return run;
}

/** Follow the run's events (the server stops the run when this stream closes). */
function follow(run) {
  const source = new EventSource(`/api/runs/${encodeURIComponent(run.id)}/events`);
  run.source = source;
  const read = (e) => {
    try {
      return JSON.parse(e.data);
    } catch {
      showError("The server sent an event the page cannot read; reload the page.");
      return null;
    }
  };
  source.addEventListener("epoch", (e) => {
    const ev = read(e);
    if (!ev || state.run !== run) return;
    run.epoch = ev.epoch;
    run.last = ev;
    if (Number.isFinite(ev.seconds)) run.seconds += ev.seconds;
    run.train.push([ev.epoch, ev.loss]);
    if (ev.val_loss !== null && ev.val_loss !== undefined) run.val.push([ev.epoch, ev.val_loss]);
    if (run.rate !== null && ev.learning_rate !== run.rate) run.rateChanges.push(ev.epoch - 1);
    run.rate = ev.learning_rate;
    writeReadouts();                 // at once: the read-outs never lag the status
    render(false);
  });
  source.addEventListener("snapshot", (e) => {
    const snap = read(e);
    if (!snap || state.run !== run) return;
    run.snapshot = snap;
    render(true);
  });
  source.addEventListener("state", (e) => {
    const st = read(e);
    if (!st || state.run !== run) return;
    run.status = st.status;
    run.reason = st.reason || null;
    if (Number.isInteger(st.epoch) && st.epoch > run.epoch && !run.train.length) run.epoch = st.epoch;
    if (TERMINAL.has(st.status)) {
      source.close();
      record(run);
      if (st.status === "error") showError(st.reason || "The training stopped with an error.");
    }
    writeButtons();
    render(false);
  });
  source.addEventListener("error", (e) => {
    if (state.run !== run) {
      source.close();
      return;
    }
    if (e.data) {                    // the server's own `error` event
      const msg = read(e);
      source.close();
      run.status = "error";
      showError(msg && msg.error ? msg.error : "The training stopped with an error.");
      record(run);
      writeButtons();
      return;
    }
    if (TERMINAL.has(run.status)) {  // the stream ended after the run did
      source.close();
      return;
    }
    source.close();
    run.status = "error";
    showError("Lost the connection to the server while training: is `numnet playground` still "
      + "running? Start it again, then press Start.");
    record(run);
    writeButtons();
  });
}

/** End the current run (recording it) and clear its pictures. */
function dropRun() {
  const run = state.run;
  if (!run) return;
  state.run = null;
  record(run);
  if (run.source) run.source.close();
  if (run.id && !TERMINAL.has(run.status)) {
    // closing the stream already stops it: an answer that it has ended is no news
    api("POST", `/api/runs/${encodeURIComponent(run.id)}/stop`).catch(() => {});
  }
  setDownloads(null);
  writeButtons();
  render(true);
}

async function control(action) {
  const run = state.run;
  if (!run || !run.id) return;
  try {
    await api("POST", `/api/runs/${encodeURIComponent(run.id)}/${action}`);
  } catch (e) {
    showError(e.message);
  }
}

async function onStart() {
  clearError();
  const run = state.run;
  if (run && run.status === "paused") {
    if (!readAll()) return;
    if (state.run === run) {
      run.status = "running";
      writeButtons();
      await control("resume");
      return;
    }
  }
  if (run && (run.status === "running" || run.status === "starting")) return;
  if (!readAll()) return;
  await newRun(false);
}

async function onPause() {
  clearError();
  const run = state.run;
  if (run && run.status === "running") await control("pause");
}

async function onStep() {
  clearError();
  let run = state.run;
  if (run && (run.status === "running" || run.status === "starting")) return;
  if (!run || TERMINAL.has(run.status)) {
    if (!readAll()) return;
    run = await newRun(true);
    if (!run) return;
  }
  run.status = "running";
  writeButtons();
  await control("step");
}

function onReset() {
  clearError();
  dropRun();
  render(true);
}

function writeButtons() {
  const run = state.run;
  const status = run ? run.status : "ready";
  const active = status === "running" || status === "starting";
  $("start").disabled = active;
  $("start-label").textContent = status === "paused" ? "Resume" : "Start";
  $("pause").disabled = status !== "running";
  $("step").disabled = active;
  $("status").textContent = status;
  writeReadouts();
  $("status").title = run && run.reason ? run.reason : "";
  $("run-note").textContent = run && run.reason && status !== "error" ? run.reason : "";
  document.body.dataset.status = status;
}

function setDownloads(id) {
  const files = { "download-model": "model.safetensors", "download-onnx": "model.onnx",
    "download-code": "train.py", "download-data": "data.csv" };
  for (const [el, file] of Object.entries(files)) {
    const a = $(el);
    if (id) {
      a.href = `/api/runs/${encodeURIComponent(id)}/${file}`;
      a.setAttribute("download", file);
      a.removeAttribute("aria-disabled");
    } else {
      a.removeAttribute("href");
      a.removeAttribute("download");
      a.setAttribute("aria-disabled", "true");
    }
  }
}

// --- the runs table and the seeds ---------------------------------------------------------

function summary(s) {
  const data = s.dataset === "upload" ? (state.upload ? state.upload.name : "file")
    : `${s.dataset} ${s.samples}${s.noise ? ` noise ${s.noise}` : ""}`;
  const acts = [...new Set(s.activation)].join("/");
  const net = s.hidden.length ? `${s.hidden.join("-")} ${acts}` : "no hidden layer";
  return `${data} · ${net} · ${s.optimizer} lr ${s.learning_rate} · batch ${s.batch_size}`
    + `${s.l2 ? ` · L2 ${s.l2}` : ""}${s.dropout ? ` · dropout ${s.dropout}` : ""} · seed ${s.seed}`;
}

function record(run) {
  if (run.recorded || !run.last) return;
  run.recorded = true;
  const ev = run.last;
  const accuracy = ev.val_accuracy ?? ev.accuracy;
  state.runs.push({
    n: state.runs.length + 1, settings: copy(run.settings),
    summary: summary(run.settings) + (run.rates.length ? ` · lr then ${run.rates.join(", ")}` : ""),
    epochs: `${ev.epoch}/${run.settings.epochs}`, loss: ev.loss, val_loss: ev.val_loss,
    accuracy: accuracy ?? confusionAccuracy(run.snapshot), seconds: run.seconds,
    status: run.status,
  });
  writeRunsTable();
}

function seconds(v) {
  if (!Number.isFinite(v)) return "—";
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} s`;
}

function cell(row, text, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (title) td.title = title;
  row.append(td);
  return td;
}

function writeRunsTable() {
  const body = $("runs-table").querySelector("tbody");
  body.replaceChildren();
  for (const r of state.runs) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.title = "Restore these settings";
    cell(tr, String(r.n));
    cell(tr, r.summary);
    cell(tr, r.epochs, r.status);
    cell(tr, fmt(r.loss));
    cell(tr, fmt(r.val_loss));
    cell(tr, r.accuracy === null || r.accuracy === undefined ? "—" : `${(100 * r.accuracy).toFixed(1)}%`);
    cell(tr, seconds(r.seconds));
    const restore = () => applySettings(copy(r.settings));
    tr.addEventListener("click", restore);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        restore();
      }
    });
    body.append(tr);
  }
}

function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean, sd, min: Math.min(...v), max: Math.max(...v) };
}

async function onSeeds() {
  clearError();
  if (!readAll()) return;
  const s = copy(state.settings);
  const count = Math.min(5, (state.options.limits || {}).seeds || 5);
  const seeds = Array.from({ length: count }, (_, i) => s.seed + i);
  const button = $("seeds");
  button.disabled = true;
  $("seeds-result").textContent = `Training seeds ${seeds[0]} to ${seeds.at(-1)}…`;
  $("seeds-table").replaceChildren();
  try {
    const answer = await api("POST", "/api/seeds", { settings: s, seeds });
    writeSeeds(answer.runs || [], s);
  } catch (e) {
    $("seeds-result").textContent = "";
    showError(e.message);
  } finally {
    button.disabled = false;
  }
}

function writeSeeds(runs, s) {
  const key = runs.some((r) => Number.isFinite(r.val_loss)) ? "val_loss" : "loss";
  const loss = spread(runs.map((r) => r[key]));
  const accKey = runs.some((r) => Number.isFinite(r.val_accuracy)) ? "val_accuracy" : "accuracy";
  const acc = spread(runs.map((r) => r[accKey]));
  const words = [];
  if (loss) {
    words.push(`${key === "val_loss" ? "held-out loss" : "loss"} ${fmt(loss.mean)} ± ${fmt(loss.sd, 2)}`
      + ` (${fmt(loss.min)} to ${fmt(loss.max)})`);
  }
  if (acc) {
    words.push(`${accKey === "val_accuracy" ? "held-out accuracy" : "accuracy"} `
      + `${(100 * acc.mean).toFixed(1)}% ± ${(100 * acc.sd).toFixed(1)}`);
  }
  $("seeds-result").textContent = `${runs.length} seeds of ${summary(s)}: ${words.join("; ")}.`;
  const table = document.createElement("table");
  table.className = "runs seeds";
  const head = table.createTHead().insertRow();
  const hasVal = runs.some((r) => Number.isFinite(r.val_loss));
  const hasAcc = runs.some((r) => Number.isFinite(r.accuracy) || Number.isFinite(r.val_accuracy));
  const columns = ["Seed", "Loss", ...(hasVal ? ["Held-out loss"] : []),
    ...(hasAcc ? ["Accuracy", ...(hasVal ? ["Held-out accuracy"] : [])] : []), "Time",
    key === "val_loss" ? "Held-out loss, drawn" : "Loss, drawn"];
  for (const h of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  const values = runs.map((r) => r[key]).filter(Number.isFinite);
  const top = Math.max(...values, 0) || 1;
  const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "—");
  for (const r of runs) {
    const tr = body.insertRow();
    cell(tr, String(r.seed));
    cell(tr, fmt(r.loss));
    if (hasVal) cell(tr, fmt(r.val_loss));
    if (hasAcc) {
      cell(tr, pct(r.accuracy));
      if (hasVal) cell(tr, pct(r.val_accuracy));
    }
    cell(tr, seconds(r.seconds));
    const bar = cell(tr, "");
    const b = document.createElement("span");
    b.className = "bar";
    b.style.width = `${Math.max(2, (100 * (r[key] || 0)) / top)}%`;
    b.title = `${key === "val_loss" ? "held-out loss" : "loss"} ${fmt(r[key])}`;
    bar.append(b);
  }
  $("seeds-table").replaceChildren(table);
}

// --- upload -------------------------------------------------------------------------------

async function onUpload() {
  clearError();
  const file = $("upload").files[0];
  if (!file) return;
  const limit = (state.options.limits || {}).upload_bytes;
  if (limit && file.size > limit) {
    showError(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB, over the limit of `
      + `${(limit / 1e6).toFixed(1)} MB; upload a smaller file.`);
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const up = await api("POST", "/api/upload", form);
    state.upload = up;
    update({ dataset: "upload", upload_id: up.upload_id, target: up.target,
      features: up.columns.filter((c) => c !== up.target) });
  } catch (e) {
    showError(e.message);
  } finally {
    $("upload").value = "";
  }
}

function onTargetChanged() {
  const up = state.upload;
  const target = $("target").value;
  update({ target, features: up.columns.filter((c) => c !== target) });
}

function onFeaturesChanged() {
  const chosen = [...$("features").querySelectorAll("input:checked")].map((i) => i.value);
  if (!chosen.length) {
    showError("Choose at least one feature column (two to see the pictures).");
    writeUploadFields();
    return;
  }
  update({ features: chosen });
}

// --- pictures -----------------------------------------------------------------------------

let frameAsked = false;
let fullRender = false;

/** Draw on the next frame (events come faster than the screen shows them). */
function render(everything) {
  fullRender = fullRender || everything;
  if (frameAsked) return;
  frameAsked = true;
  requestAnimationFrame(() => {
    frameAsked = false;
    const all = fullRender;
    fullRender = false;
    draw(all);
  });
}

function outputSizes() {
  const data = state.data;
  const s = state.run ? state.run.settings : state.settings;
  if (state.run && state.run.info) return state.run.info.layer_sizes;
  const inputs = data ? data.feature_names.length
    : ((datasetInfo(s.dataset) || {}).inputs || 2);
  let outputs = 1;
  if (data && data.classes && data.classes.length > 2) outputs = data.classes.length;
  else if (data && data.classes && s.output_activation && s.output_activation !== "sigmoid") {
    outputs = 2;
  }
  return [inputs, ...s.hidden, outputs];
}

function parameterCount(sizes, bias) {
  let n = 0;
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1] * sizes[i] + (bias ? sizes[i] : 0);
  return n;
}

function writeReadouts() {
  const run = state.run;
  const last = run && run.last;
  $("epoch").textContent = String(run ? run.epoch : 0);
  $("loss").textContent = last ? fmt(last.loss) : "—";
  $("val-loss").textContent = last ? fmt(last.val_loss) : "—";
}

function draw(all) {
  const run = state.run;
  const last = run && run.last;
  writeReadouts();
  const data = state.data;
  const settings = run ? run.settings : state.settings;
  lossChart($("loss-chart"), {
    train: run ? run.train : [], val: run ? run.val : [],
    baseline: data ? data.baseline.loss : NaN, epochs: settings.epochs,
    log: $("log-scale").checked, rateChanges: run ? run.rateChanges : [],
  });
  $("loss-chart").setAttribute("aria-label", last
    ? `Loss by epoch: ${fmt(last.loss)} at epoch ${last.epoch}`
      + (Number.isFinite(last.val_loss) ? `, held out ${fmt(last.val_loss)}` : "")
    : "Loss by epoch: no run yet");
  writeAccuracy(run, data);
  if (!all) return;
  const snap = run && run.snapshot;
  fitChart($("data-chart"), data, null, { compact: true });
  fitChart($("fit-chart"), data, snap ? snap.fit : null);
  writeFitLegend(data, snap);
  const sizes = outputSizes();
  $("parameters").textContent = `${(run && run.info ? run.info.parameters
    : parameterCount(sizes, settings.bias)).toLocaleString("en")} parameters`;
  const twoD = sizes[0] === 2;
  let outputImage = null;
  if (twoD && snap && snap.fit && snap.fit.z && data) {
    outputImage = gridImage(snap.fit.z, (z) => zColour(data, z));
  }
  const classes = (run && run.info && run.info.classes) || (data && data.classes);
  const outNames = classes
    ? (sizes.at(-1) === 1 ? [`P(${classes[1] ?? 1})`] : classes.map(String))
    : [data ? data.target_name : "y"];
  state.shapes = networkChart($("network"), {
    sizes, activations: settings.activation, weights: snap ? snap.weights : null,
    units: snap && snap.units ? snap.units : null, twoD,
    inputNames: data ? data.feature_names : [], outputNames: outNames, outputImage,
    outputClasses: Boolean(classes),
  });
  $("network").setAttribute("aria-label", `The network: ${sizes.join(" → ")} units`
    + (snap ? `, weights after epoch ${snap.epoch}` : ", not trained yet"));
  writeHealth(snap ? snap.health : null, sizes, settings, Boolean(snap));
  writeConfusion(snap ? snap.confusion : null, classes, data);
}

function writeFitLegend(data, snap) {
  const legend = $("fit-legend");
  if (!data) {
    legend.textContent = "";
    return;
  }
  const d = data.feature_names.length;
  const parts = [];
  if (d === 1) parts.push("dots: training rows; rings: held-out rows; line: the network's fit");
  else if (data.classes) {
    parts.push(`colour: ${data.classes.length > 2 ? "the class the network picks" : `P(${data.classes[1]}), orange 0 to blue 1`}`);
    parts.push("dark rings: held-out rows");
  } else parts.push("colour: the prediction (orange low, blue high); dark rings: held-out rows");
  if (d > 2) parts.push("the fit is drawn for one or two features");
  else if (!snap) parts.push("press Start to see the fit");
  legend.textContent = parts.join("; ");
}

/** The share of the confusion matrix's rows on its diagonal, or null. */
function confusionAccuracy(snap) {
  const m = snap && snap.confusion;
  if (!m) return null;
  let right = 0;
  let all = 0;
  m.forEach((row, i) => row.forEach((n, j) => {
    all += n;
    if (i === j) right += n;
  }));
  return all ? right / all : null;
}

function writeAccuracy(run, data) {
  const box = $("class-results");
  const classes = data && data.classes;
  box.hidden = !classes;
  if (!classes) return;
  const last = run && run.last;
  const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "—");
  const parts = [];
  if (last && Number.isFinite(last.accuracy)) parts.push(`training ${pct(last.accuracy)}`);
  if (last && Number.isFinite(last.val_accuracy)) parts.push(`held out ${pct(last.val_accuracy)}`);
  if (!parts.length && run && run.snapshot && run.snapshot.confusion) {
    const held = data.split.includes("test");
    parts.push(`${held ? "held out" : "training"} ${pct(confusionAccuracy(run.snapshot))}`);
  }
  $("accuracy").textContent = parts.join(" · ");
}

function writeConfusion(matrix, classes, data) {
  const box = $("confusion");
  if (!matrix || !classes) {
    box.replaceChildren();
    if (classes) {
      const p = document.createElement("p");
      p.className = "note";
      p.textContent = "The confusion matrix appears once the network trains.";
      box.append(p);
    }
    return;
  }
  const table = document.createElement("table");
  table.className = "confusion";
  const held = data && data.split.includes("test");
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = `Rows: the true class; columns: the predicted one (${held ? "held-out"
    : "training"} rows).`;
  const head = table.createTHead().insertRow();
  const corner = document.createElement("th");
  corner.textContent = "";
  head.append(corner);
  for (const c of classes) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = String(c);
    head.append(th);
  }
  const body = table.createTBody();
  matrix.forEach((row, i) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(classes[i]);
    tr.append(th);
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const td = cell(tr, String(count));
      const share = count / total;
      const c = i === j ? [8, 119, 189] : [224, 98, 42];
      td.style.background = `rgba(${c[0]},${c[1]},${c[2]},${(0.08 + 0.8 * share).toFixed(3)})`;
      if (share > 0.55) td.style.color = "#fff";
    });
  });
  box.replaceChildren(table, note);
}

function writeHealth(health, sizes, settings, trained) {
  const box = $("health");
  // the record counts epochs from 0; the page from 1
  $("health-epoch").textContent = health && Number.isInteger(health.epoch)
    ? `(after epoch ${health.epoch + 1})` : "";
  if (!health) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = trained
      ? "Not measured yet: numnet measures a run's health when its training is long "
        + "enough for the measurements to cost little."
      : "Measured while training: each layer's gradient size, how far an epoch moves its "
        + "weights, and its saturated or dead units.";
    box.replaceChildren(p);
    return;
  }
  const table = document.createElement("table");
  table.className = "health";
  const head = table.createTHead().insertRow();
  const cols = [["Layer", ""], ["Gradient norm", "||dL/dW|| on the measured rows: tiny in early "
    + "layers means vanishing gradients"], ["Update ratio", "how far one epoch moved the weights, "
    + "against their size"], ["Saturated", "share of sigmoid/tanh outputs near their bounds"],
  ["Dead", "share of ReLU units that are zero on every row"]];
  for (const [name, title] of cols) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    if (title) th.title = title;
    head.append(th);
  }
  const body = table.createTBody();
  const layers = (health.grad_norm || []).length;
  const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(0)}%` : "—");
  for (let l = 0; l < layers; l++) {
    const tr = body.insertRow();
    const name = l === layers - 1 ? "output" : `${l + 1}: ${sizes[l + 1] ?? ""} ${settings.activation[l] ?? ""}`;
    cell(tr, name);
    cell(tr, fmt(health.grad_norm[l], 3));
    cell(tr, fmt((health.update_ratio || [])[l], 3));
    const sat = (health.saturated || [])[l];
    const dead = (health.dead || [])[l];
    const sc = cell(tr, pct(sat));
    const dc = cell(tr, pct(dead));
    // flagged: hidden units that have stopped learning (an output near its bounds is
    // a confident answer, not a problem)
    if (l < layers - 1 && Number.isFinite(sat) && sat > 0.9) {
      sc.className = "warn";
      sc.title = "Most of this layer's outputs sit near its bounds, where gradients vanish";
    }
    if (l < layers - 1 && Number.isFinite(dead) && dead > 0.5) {
      dc.className = "warn";
      dc.title = "Most of this layer's ReLU units output zero on every row";
    }
  }
  const foot = table.createTFoot().insertRow();
  const td = cell(foot, `Output spread ${fmt(health.output_spread, 3)}`,
    "The outputs' spread over the rows against the targets': near 0, one answer for every input");
  td.colSpan = 5;
  box.replaceChildren(table);
}

// --- the network's tooltip ----------------------------------------------------------------

function unitName(l, j) {
  const sizes = outputSizes();
  const data = state.data;
  if (l === 0) return `input ${data ? data.feature_names[j] : j + 1}`;
  if (l === sizes.length - 1) return `output ${sizes.at(-1) > 1 ? j + 1 : ""}`.trim();
  return `layer ${l} unit ${j + 1}`;
}

function onNetworkHover(e) {
  const canvas = $("network");
  const tip = $("network-tooltip");
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left;
  const y = e.clientY - rect.top;
  const hit = shapeAt(state.shapes, x, y);
  if (!hit) {
    tip.hidden = true;
    return;
  }
  const snap = state.run && state.run.snapshot;
  let text;
  if (hit.kind === "link") {
    text = `${unitName(hit.l, hit.i)} → ${unitName(hit.l + 1, hit.j)}: weight `
      + (hit.v === null ? "not trained yet" : fmt(hit.v));
  } else {
    text = unitName(hit.l, hit.j);
    const settings = state.run ? state.run.settings : state.settings;
    if (hit.l > 0 && hit.l <= settings.hidden.length) text += ` (${settings.activation[hit.l - 1]})`;
    if (hit.l > 0 && snap && snap.biases && snap.biases[hit.l - 1]) {
      text += `, bias ${fmt(snap.biases[hit.l - 1][hit.j])}`;
    }
  }
  tip.textContent = text;
  tip.hidden = false;
  const wrap = canvas.parentElement.getBoundingClientRect();
  tip.style.left = `${Math.min(e.clientX - wrap.left + 12, wrap.width - tip.offsetWidth - 4)}px`;
  tip.style.top = `${e.clientY - wrap.top + 14}px`;
}

// --- the command --------------------------------------------------------------------------

async function onCopy() {
  const text = $("command").textContent;
  const button = $("copy-command");
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("command"));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    if (!document.execCommand || !document.execCommand("copy")) {
      showError("Could not copy: the command is selected, copy it with Ctrl+C.");
      return;
    }
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

// --- start --------------------------------------------------------------------------------

function bind() {
  for (const [id, key, kind, name] of FIELDS) {
    const el = $(id);
    const apply = (strict) => {
      try {
        const v = readField(id, kind, name);
        el.setAttribute("aria-invalid", "false");
        update({ [key]: v });
      } catch (e) {
        el.setAttribute("aria-invalid", "true");
        if (strict) showError(e.message);
      }
    };
    if (el.type === "range") {
      // the value shows while sliding; the data follows when the slider is let go
      el.addEventListener("input", () => {
        const out = $(`${id}-value`);
        if (out) out.textContent = id === "test-fraction" ? `${Math.round(el.value * 100)}%` : el.value;
      });
      el.addEventListener("change", () => apply(true));
    } else {
      el.addEventListener("change", () => {
        clearError();
        apply(true);
      });
    }
  }
  $("hidden-layers").addEventListener("change", () => {
    clearError();
    try {
      const hidden = parseHidden($("hidden-layers").value);
      $("hidden-layers").setAttribute("aria-invalid", "false");
      update({ hidden, activation: activationsFor(hidden) });
    } catch (e) {
      $("hidden-layers").setAttribute("aria-invalid", "true");
      showError(e.message);
    }
  });
  $("activation").addEventListener("change", () => {
    const a = $("activation").value;
    update({ activation: state.settings.hidden.map(() => a) });
  });
  $("add-layer").addEventListener("click", () => {
    const s = state.settings;
    const hidden = [...s.hidden, s.hidden.at(-1) || 4];
    update({ hidden, activation: activationsFor(hidden) });
  });
  $("remove-layer").addEventListener("click", () => {
    const s = state.settings;
    update({ hidden: s.hidden.slice(0, -1), activation: s.activation.slice(0, -1) });
  });
  $("regenerate").addEventListener("click", () => {
    clearError();
    update({ seed: state.settings.seed + 1 });
  });
  $("upload").addEventListener("change", onUpload);
  $("target").addEventListener("change", onTargetChanged);
  $("start").addEventListener("click", onStart);
  $("pause").addEventListener("click", onPause);
  $("step").addEventListener("click", onStep);
  $("reset").addEventListener("click", onReset);
  $("seeds").addEventListener("click", onSeeds);
  $("copy-command").addEventListener("click", onCopy);
  $("error-close").addEventListener("click", clearError);
  $("log-scale").addEventListener("change", () => render(false));
  $("network").addEventListener("mousemove", onNetworkHover);
  $("network").addEventListener("mouseleave", () => { $("network-tooltip").hidden = true; });
  for (const id of ["download-model", "download-onnx", "download-code", "download-data"]) {
    $(id).addEventListener("click", (e) => {
      if (!$(id).getAttribute("href")) {
        e.preventDefault();
        showError("Start a run first: the downloads are the run's model, code and data.");
      }
    });
  }
  window.addEventListener("resize", () => render(true));
  window.addEventListener("hashchange", () => {
    const s = decodeHash(location.hash, state.options.defaults);
    if (!same(s, state.settings)) applySettings(s);
  });
}

async function main() {
  bind();
  writeButtons();
  try {
    state.options = await api("GET", "/api/options");
  } catch (e) {
    showError(e.message);
    return;
  }
  fillSelects();
  state.settings = decodeHash(location.hash, state.options.defaults);
  writeControls();
  writeHash();
  render(true);
  await loadData();
}

main();
