// Drawing on <canvas>: the data, the fit, the loss curves and the network.
// Plain 2-D canvas calls; every function takes the canvas and the data it draws.

export const ORANGE = [245, 147, 34];   // negative values, class 0
export const BLUE = [8, 119, 189];      // positive values, class 1
const MIDDLE = [238, 240, 241];
const CLASS_COLOURS = [ORANGE, BLUE, [44, 160, 44], [148, 103, 189], [214, 39, 40],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const INK = "#2b2f36";
const GRID = "#e3e6ea";
const MUTED = "#6b7280";
const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/** The canvas's 2-D context, its backing store sized for the screen's pixel ratio. */
export function context(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return { ctx, w, h };
}

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/** Colour of a value in [-1, 1]: orange below zero, blue above, grey-white at zero. */
export function diverging(v) {
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  return t < 0 ? mix(MIDDLE, ORANGE, -t) : mix(MIDDLE, BLUE, t);
}

export function classColour(k) {
  return CLASS_COLOURS[k % CLASS_COLOURS.length];
}

const css = (c, alpha = 1) => `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;

/** Format a number for axes and read-outs: 4 significant digits, exponent when tiny or huge. */
export function fmt(v, digits = 4) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(digits)));
}

function niceTicks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => raw <= s) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

/** A range [lo, hi] of the values with a margin of `share` of its width on each side. */
export function padded(values, share = 0.1) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi === lo) return [lo - 1, hi + 1];
  const m = (hi - lo) * share;
  return [lo - m, hi + m];
}

function frame(ctx, box, xr, yr, labels) {
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(xr[0], xr[1], 4)) {
    const x = box.x + ((t - xr[0]) / (xr[1] - xr[0])) * box.w;
    ctx.beginPath();
    ctx.moveTo(x, box.y);
    ctx.lineTo(x, box.y + box.h);
    ctx.stroke();
    ctx.fillText(fmt(t, 3), x, box.y + box.h + 3);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const yTicks = labels && labels.yTicks ? labels.yTicks : niceTicks(yr[0], yr[1], 4);
  for (const t of yTicks) {
    const y = box.y + box.h - ((labels && labels.yOf ? labels.yOf(t) : t) - yr[0])
      / (yr[1] - yr[0]) * box.h;
    if (y < box.y - 0.5 || y > box.y + box.h + 0.5) continue;
    ctx.beginPath();
    ctx.moveTo(box.x, y);
    ctx.lineTo(box.x + box.w, y);
    ctx.stroke();
    ctx.fillText(fmt(t, 3), box.x - 4, y);
  }
  if (labels && labels.x) tag(ctx, `${labels.x} →`, box.x + box.w - 4, box.y + box.h - 4, "right");
  if (labels && labels.y) tag(ctx, `↑ ${labels.y}`, box.x + 4, box.y + 4, "left");
}

/** A small label on a white pill, readable over a heat map; (x, y) its outer corner. */
function tag(ctx, text, x, y, align) {
  const shown = text.length > 24 ? `${text.slice(0, 23)}…` : text;
  const w = ctx.measureText(shown).width + 8;
  const left = align === "right" ? x - w : x;
  const top = align === "right" ? y - 15 : y;
  ctx.fillStyle = "rgba(255,255,255,0.85)";
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(left, top, w, 15, 4);
  else ctx.rect(left, top, w, 15);
  ctx.fill();
  ctx.fillStyle = INK;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(shown, left + 4, top + 7.5);
}

/** Loss curves: `train`, `val` (arrays of [epoch, loss]), the baseline (dashed),
 *  epochs where the learning rate changed (dotted), on a linear or log axis. */
export function lossChart(canvas, { train, val, baseline, epochs, log, rateChanges }) {
  const { ctx, w, h } = context(canvas);
  const box = { x: 46, y: 8, w: w - 56, h: h - 30 };
  const values = [];
  for (const [, v] of train) values.push(v);
  for (const [, v] of val) values.push(v);
  if (Number.isFinite(baseline)) values.push(baseline);
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  const lastEpoch = train.length ? train[train.length - 1][0] : 0;
  const xr = [0, Math.max(1, epochs || 0, lastEpoch)];
  let yr;
  let yOf = (v) => v;
  let yTicks;
  if (log) {
    const lo = usable.length ? Math.min(...usable) : 0.01;
    const hi = usable.length ? Math.max(...usable) : 1;
    yr = [Math.log10(lo) - 0.1, Math.log10(hi) + 0.1];
    if (yr[1] - yr[0] < 0.5) yr = [yr[0] - 0.25, yr[1] + 0.25];
    yOf = (v) => Math.log10(v);
    yTicks = [];
    for (let p = Math.floor(yr[0]); p <= Math.ceil(yr[1]); p++) yTicks.push(10 ** p);
    if (yTicks.filter((t) => Math.log10(t) >= yr[0] && Math.log10(t) <= yr[1]).length < 2) {
      const mid = (yr[0] + yr[1]) / 2;
      yTicks = [10 ** (mid - (yr[1] - yr[0]) / 3), 10 ** mid, 10 ** (mid + (yr[1] - yr[0]) / 3)];
    }
  } else {
    const hi = usable.length ? Math.max(...usable) : 1;
    yr = [0, hi > 0 ? hi * 1.05 : 1];
  }
  frame(ctx, box, xr, yr, { yTicks, yOf });
  const X = (e) => box.x + ((e - xr[0]) / (xr[1] - xr[0])) * box.w;
  const Y = (v) => box.y + box.h - ((yOf(v) - yr[0]) / (yr[1] - yr[0])) * box.h;
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.x, box.y, box.w, box.h);
  ctx.clip();
  ctx.strokeStyle = "#9aa3ad";
  ctx.setLineDash([2, 3]);
  for (const e of rateChanges || []) {
    ctx.beginPath();
    ctx.moveTo(X(e), box.y);
    ctx.lineTo(X(e), box.y + box.h);
    ctx.stroke();
  }
  if (Number.isFinite(baseline) && (!log || baseline > 0)) {
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = "#6b7280";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(box.x, Y(baseline));
    ctx.lineTo(box.x + box.w, Y(baseline));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  const curve = (points, colour) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    let started = false;
    // at most one point per pixel column: a long run stays cheap to draw
    const stride = Math.max(1, Math.floor(points.length / (box.w * 2)));
    for (let i = 0; i < points.length; i += stride) {
      const [e, v] = points[i];
      if (!Number.isFinite(v) || (log && v <= 0)) {
        started = false;
        continue;
      }
      if (started) ctx.lineTo(X(e), Y(v));
      else ctx.moveTo(X(e), Y(v));
      started = true;
    }
    const last = points[points.length - 1];
    if (started && last && Number.isFinite(last[1])) ctx.lineTo(X(last[0]), Y(last[1]));
    ctx.stroke();
  };
  curve(val, "#e0622a");
  curve(train, "#0877bd");
  ctx.restore();
  if (!train.length) {
    ctx.fillStyle = MUTED;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("Press Start: the training and held-out losses appear here.", box.x + box.w / 2,
      box.y + box.h / 2);
  }
}

/** Where the data's points go: a box, and x/y ranges in data units. */
function plotBox(w, h, compact) {
  return compact ? { x: 4, y: 4, w: w - 8, h: h - 8 } : { x: 34, y: 6, w: w - 40, h: h - 26 };
}

function points2d(ctx, box, xr, yr, data, colourOf, radius) {
  const X = (v) => box.x + ((v - xr[0]) / (xr[1] - xr[0])) * box.w;
  const Y = (v) => box.y + box.h - ((v - yr[0]) / (yr[1] - yr[0])) * box.h;
  // training points first, the held-out ones on top with a dark ring
  for (const held of [false, true]) {
    for (let i = 0; i < data.X.length; i++) {
      if ((data.split[i] === "test") !== held) continue;
      const c = colourOf(i);
      ctx.beginPath();
      ctx.arc(X(data.X[i][0]), Y(data.X[i][1]), radius, 0, 2 * Math.PI);
      ctx.fillStyle = css(c);
      ctx.fill();
      ctx.lineWidth = held ? 1.4 : 1;
      ctx.strokeStyle = held ? "#1f2933" : "#fff";
      ctx.stroke();
    }
  }
}

/** The colour of each row's target: its class, or its value on the data's range. */
export function targetColours(data) {
  if (data.classes) {
    // y holds the raw labels; a class's colour is its place in `classes`
    const index = new Map(data.classes.map((c, k) => [String(c), k]));
    return (i) => classColour(index.get(String(data.y[i])) ?? 0);
  }
  const ys = data.y.map(Number);
  const [lo, hi] = padded(ys, 0);
  const mid = (lo + hi) / 2;
  const half = (hi - lo) / 2 || 1;
  return (i) => diverging((ys[i] - mid) / half);
}

/** The colour of a fit's z value: a class index (more than two classes), P(the second
 *  class), or a prediction on the data's target range. */
export function zColour(data, z) {
  if (data.classes && data.classes.length > 2) {
    return mix([255, 255, 255], classColour(Math.round(z)), 0.4);
  }
  if (data.classes) return diverging((2 * z - 1) * 0.62);
  const [lo, hi] = padded(data.y.map(Number), 0);
  return diverging(((z - (lo + hi) / 2) / ((hi - lo) / 2 || 1)) * 0.62);
}

/** An image of a G x G grid (rows along y, first row at the bottom), one colour per cell. */
export function gridImage(z, colourOf) {
  const rows = z.length;
  const cols = rows ? z[0].length : 0;
  const img = document.createElement("canvas");
  img.width = cols;
  img.height = rows;
  const ictx = img.getContext("2d");
  const pixels = ictx.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const colour = colourOf(z[r][c]);
      const o = ((rows - 1 - r) * cols + c) * 4;
      pixels.data[o] = colour[0];
      pixels.data[o + 1] = colour[1];
      pixels.data[o + 2] = colour[2];
      pixels.data[o + 3] = 255;
    }
  }
  ictx.putImageData(pixels, 0, 0);
  return img;
}

/** The data and, when given, the fit: 1-D points x -> y with the fitted curve; 2-D points
 *  over the decision regions (classes) or the prediction's heat map (regression). */
export function fitChart(canvas, data, fit, { compact = false } = {}) {
  const { ctx, w, h } = context(canvas);
  if (!data) return;
  const box = plotBox(w, h, compact);
  const d = data.X.length ? data.X[0].length : data.feature_names.length;
  if (d === 1) {
    const xs = data.X.map((r) => r[0]);
    const ys = data.y.map(Number);
    const xr = fit && fit.x && fit.x.length ? [fit.x[0], fit.x[fit.x.length - 1]] : padded(xs);
    const yr = padded(ys, 0.15);
    if (!compact) frame(ctx, box, xr, yr, { x: data.feature_names[0], y: data.target_name });
    const X = (v) => box.x + ((v - xr[0]) / (xr[1] - xr[0])) * box.w;
    const Y = (v) => box.y + box.h - ((v - yr[0]) / (yr[1] - yr[0])) * box.h;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    for (const held of [false, true]) {
      for (let i = 0; i < xs.length; i++) {
        if ((data.split[i] === "test") !== held) continue;
        ctx.beginPath();
        ctx.arc(X(xs[i]), Y(ys[i]), compact ? 2.2 : 3, 0, 2 * Math.PI);
        if (held) {
          ctx.strokeStyle = css(ORANGE);
          ctx.lineWidth = 1.5;
          ctx.stroke();
        } else {
          ctx.fillStyle = css([90, 98, 110], 0.7);
          ctx.fill();
        }
      }
    }
    if (fit && fit.x) {
      ctx.strokeStyle = css(BLUE);
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      fit.x.forEach((x, i) => (i ? ctx.lineTo(X(x), Y(fit.y[i])) : ctx.moveTo(X(x), Y(fit.y[i]))));
      ctx.stroke();
    }
    ctx.restore();
    return;
  }
  const xr = fit && fit.x ? [fit.x[0], fit.x[fit.x.length - 1]] : padded(data.X.map((r) => r[0]));
  const yr = fit && fit.y ? [fit.y[0], fit.y[fit.y.length - 1]] : padded(data.X.map((r) => r[1]));
  if (fit && fit.z) {
    const img = gridImage(fit.z, (z) => zColour(data, z));
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(img, box.x, box.y, box.w, box.h);
  } else {
    ctx.fillStyle = "#f7f8f9";
    ctx.fillRect(box.x, box.y, box.w, box.h);
  }
  if (!compact) {
    ctx.save();
    ctx.globalAlpha = 0.35;
    frame(ctx, box, xr, yr, {});
    ctx.restore();
    frame(ctx, box, xr, yr, { x: data.feature_names[0], y: data.feature_names[1] });
  }
  points2d(ctx, box, xr, yr, data, targetColours(data), compact ? 2.4 : 3.4);
  ctx.strokeStyle = "#c9ced4";
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w - 1, box.h - 1);
}

/** Colour of a hidden unit's activation: the value scaled to [-1, 1] by its activation's
 *  range (sigmoid's [0, 1], tanh's [-1, 1], else the layer's largest magnitude). */
function unitScale(activation, grids) {
  if (activation === "sigmoid") return (a) => 2 * a - 1;
  if (activation === "tanh") return (a) => a;
  let m = 0;
  for (const g of grids) for (const row of g) for (const a of row) m = Math.max(m, Math.abs(a));
  return (a) => (m > 0 ? a / m : 0);
}

/** The network: units as heat maps (2-D inputs) or circles, links coloured by the weight's
 *  sign and as wide as its size. Returns the shapes drawn, for the tooltips. */
export function networkChart(canvas, net) {
  const { ctx, w, h } = context(canvas);
  const sizes = net.sizes;
  const shapes = { units: [], links: [] };
  if (!sizes || sizes.length < 2) return shapes;
  const left = 58;
  const right = 58;
  const top = 26;
  const bottom = 10;
  const cols = sizes.length;
  const colX = (l) => left + (cols === 1 ? 0 : (l * (w - left - right)) / (cols - 1));
  const widest = Math.max(...sizes);
  const spacing = Math.min(46, (h - top - bottom) / widest);
  const unit = Math.max(3, Math.min(32, spacing * 0.78));
  const pos = sizes.map((n, l) => Array.from({ length: n }, (_, j) => ({
    x: colX(l), y: top + (h - top - bottom) / 2 + (j - (n - 1) / 2) * spacing,
  })));
  const weights = net.weights;
  let maxAbs = 0;
  if (weights) for (const W of weights) for (const row of W) for (const v of row) {
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  // links
  for (let l = 0; l < cols - 1; l++) {
    for (let i = 0; i < sizes[l]; i++) {
      for (let j = 0; j < sizes[l + 1]; j++) {
        const a = pos[l][i];
        const b = pos[l + 1][j];
        const x0 = a.x + unit / 2;
        const x1 = b.x - unit / 2;
        const v = weights && weights[l] && weights[l][i] ? weights[l][i][j] : null;
        const t = v === null || maxAbs === 0 ? 0 : Math.abs(v) / maxAbs;
        ctx.strokeStyle = v === null ? "rgba(150,158,168,0.35)"
          : css(v >= 0 ? BLUE : ORANGE, 0.18 + 0.72 * t);
        ctx.lineWidth = v === null ? 1 : 0.4 + 4.6 * t;
        const mx = (x0 + x1) / 2;
        ctx.beginPath();
        ctx.moveTo(x0, a.y);
        ctx.bezierCurveTo(mx, a.y, mx, b.y, x1, b.y);
        ctx.stroke();
        shapes.links.push({ l, i, j, v, x0, y0: a.y, x1, y1: b.y });
      }
    }
  }
  // units
  const G2 = 16;
  const inputGrid = (k) => Array.from({ length: G2 }, (_, r) => Array.from({ length: G2 },
    (_, c) => (k === 0 ? c : r) / (G2 - 1) * 2 - 1));
  for (let l = 0; l < cols; l++) {
    const hidden = l > 0 && l < cols - 1;
    const grids = hidden && net.units ? net.units[l - 1] : null;
    const scale = grids ? unitScale(net.activations[l - 1], grids) : null;
    for (let j = 0; j < sizes[l]; j++) {
      const p = pos[l][j];
      const x = p.x - unit / 2;
      const y = p.y - unit / 2;
      let img = null;
      if (grids && grids[j]) img = gridImage(grids[j], (a) => diverging(scale(a)));
      else if (l === 0 && net.twoD) img = gridImage(inputGrid(j), (a) => diverging(a));
      else if (l === cols - 1 && net.outputImage && sizes[l] === 1) img = net.outputImage;
      if (img && unit >= 6) {
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(img, x, y, unit, unit);
        ctx.strokeStyle = "#8a939d";
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, unit - 1, unit - 1);
      } else {
        ctx.beginPath();
        ctx.arc(p.x, p.y, unit / 2, 0, 2 * Math.PI);
        ctx.fillStyle = l === cols - 1 && sizes[l] > 1 && net.outputClasses
          ? css(classColour(j), 0.85) : "#fff";
        ctx.fill();
        ctx.strokeStyle = "#8a939d";
        ctx.lineWidth = 1.2;
        ctx.stroke();
      }
      shapes.units.push({ l, j, x, y, size: unit });
    }
  }
  // labels: feature names, the output's, each column's title
  ctx.fillStyle = INK;
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  const short = (s) => (s.length > 9 ? `${s.slice(0, 8)}…` : s);
  (net.inputNames || []).forEach((name, j) => {
    if (pos[0][j] && sizes[0] <= 12) ctx.fillText(short(name), pos[0][j].x - unit / 2 - 5, pos[0][j].y);
  });
  ctx.textAlign = "left";
  (net.outputNames || []).forEach((name, j) => {
    const p = pos[cols - 1][j];
    if (p && sizes[cols - 1] <= 12) ctx.fillText(short(name), p.x + unit / 2 + 5, p.y);
  });
  ctx.fillStyle = MUTED;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let l = 0; l < cols; l++) {
    const title = l === 0 ? "inputs" : l === cols - 1 ? "output" : `${sizes[l]} ${net.activations[l - 1] || ""}`;
    ctx.fillText(title, colX(l), 4);
  }
  return shapes;
}

/** The shape under (x, y): a unit, else the nearest link within 4 px, else null. */
export function shapeAt(shapes, x, y) {
  for (const u of shapes.units) {
    if (x >= u.x - 2 && x <= u.x + u.size + 2 && y >= u.y - 2 && y <= u.y + u.size + 2) {
      return { kind: "unit", ...u };
    }
  }
  let best = null;
  let bestD = 4;
  for (const k of shapes.links) {
    if (x < k.x0 - 4 || x > k.x1 + 4) continue;
    // the cubic Bezier drawn for the link, its control points at mid-x: sample it
    const mx = (k.x0 + k.x1) / 2;
    for (let s = 0; s <= 16; s++) {
      const t = s / 16;
      const u = 1 - t;
      const px = k.x0 * u * u * u + 3 * mx * u * t + k.x1 * t * t * t;
      const py = k.y0 * (u * u * u + 3 * u * u * t) + k.y1 * (3 * u * t * t + t * t * t);
      const dd = Math.hypot(px - x, py - y);
      if (dd < bestD) {
        bestD = dd;
        best = k;
      }
    }
  }
  return best ? { kind: "link", ...best } : null;
}
