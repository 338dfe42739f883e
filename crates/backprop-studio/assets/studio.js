// backprop studio: the playground page. Plain ES2017, no build step, no dependencies.
// The settings live in the page's query string; the run streams from /api/run over
// Server-Sent Events (see crates/backprop-studio/src/lib.rs).
"use strict";

var DEFAULTS = {
  dataset: "spirals", points: "500", noise: "0.1", train: "0.5", features: "x,y",
  layers: "8,8", activation: "tanh", optimizer: "adam", lr: "0.03", batch: "10",
  l2: "0", dropout: "0", seed: "1", epochs: "2000", speed: "30"
};
var FEATURES = [["x", "x"], ["y", "y"], ["x2", "x²"], ["y2", "y²"], ["xy", "xy"],
  ["sinx", "sin x"], ["siny", "sin y"], ["cosx", "cos x"], ["cosy", "cos y"]];
var COLOR0 = [245, 147, 34], COLOR1 = [8, 119, 189];

// What the tests read: the state, the loss curve, the run's facts and a hash of the heatmap.
var studio = window.studio = {
  state: "ready", run: null, curve: [], gridHash: 0, gridUpdates: 0, error: null,
  neuronCanvases: 0, neuronHash: 0, neuronUpdates: 0
};
var source = null, stepWhenStarted = false;
var form = document.getElementById("settings");
var boundary = document.getElementById("boundary");
var curveCanvas = document.getElementById("curve");
var NEURONS_NOTE = document.getElementById("neurons-note").textContent;

function $(id) { return document.getElementById(id); }

function buildFeatureBoxes() {
  var box = $("features");
  FEATURES.forEach(function (f) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "checkbox";
    input.name = "feature";
    input.value = f[0];
    label.appendChild(input);
    label.appendChild(document.createTextNode(" " + f[1]));
    box.appendChild(label);
  });
}

function settingsFromUrl() {
  var params = new URLSearchParams(window.location.search);
  var s = {};
  Object.keys(DEFAULTS).forEach(function (k) { s[k] = params.has(k) ? params.get(k) : DEFAULTS[k]; });
  return s;
}

function showSettings(s) {
  Object.keys(s).forEach(function (k) {
    if (k === "features") return;
    var field = form.elements[k];
    if (field) field.value = s[k];
  });
  var on = s.features.split(",");
  Array.prototype.forEach.call(form.querySelectorAll("input[name=feature]"), function (box) {
    box.checked = on.indexOf(box.value) >= 0;
  });
}

function readSettings() {
  var s = {};
  Object.keys(DEFAULTS).forEach(function (k) {
    if (k !== "features") s[k] = String(form.elements[k].value).trim();
  });
  s.features = Array.prototype.filter.call(form.querySelectorAll("input[name=feature]"),
    function (box) { return box.checked; }).map(function (box) { return box.value; }).join(",");
  return s;
}

function query(s) {
  return Object.keys(DEFAULTS).map(function (k) {
    return encodeURIComponent(k) + "=" + encodeURIComponent(s[k]);
  }).join("&");
}

function saveToUrl() {
  window.history.replaceState(null, "", "?" + query(readSettings()));
}

function setState(state, text) {
  studio.state = state;
  $("status").textContent = text;
  $("start").disabled = state === "running" || state === "paused";
  $("pause").disabled = !(state === "running" || state === "paused");
  $("pause").textContent = state === "paused" ? "Resume" : "Pause";
}

function showError(message) {
  studio.error = message;
  var box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function shade(v) {
  var t = v / 255, light = 0.55;
  return [0, 1, 2].map(function (i) {
    var c = COLOR0[i] + (COLOR1[i] - COLOR0[i]) * t;
    return Math.round(c * (1 - light) + 255 * light);
  });
}

// Fills `image` with the colours of `shades` (0-255 each); returns `hash` extended by them
// (what the tests compare).
function paint(image, shades, hash) {
  for (var i = 0; i < shades.length; i++) {
    var c = shade(shades[i]);
    image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1]; image.data[4 * i + 2] = c[2];
    image.data[4 * i + 3] = 255;
    hash = (hash * 31 + shades[i]) % 1000000007;
  }
  return hash;
}

// One small canvas per hidden neuron, a column per layer; none for a larger network.
function buildNeurons(run) {
  var box = $("neurons");
  box.textContent = "";
  studio.neuronCanvases = 0;
  var total = run.hidden.reduce(function (a, b) { return a + b; }, 0);
  $("neurons-note").textContent = NEURONS_NOTE;
  if (total > 64) {
    $("neurons-note").textContent = "This network has " + total +
      " hidden neurons; thumbnails are drawn for up to 64.";
    return;
  }
  run.hidden.forEach(function (units, layer) {
    var column = document.createElement("div");
    column.className = "layer";
    var title = document.createElement("small");
    title.textContent = "layer " + (layer + 1);
    column.appendChild(title);
    for (var u = 0; u < units; u++) {
      var c = document.createElement("canvas");
      c.width = run.neuron_cells; c.height = run.neuron_cells;
      c.setAttribute("aria-label", "layer " + (layer + 1) + ", neuron " + (u + 1));
      column.appendChild(c);
      studio.neuronCanvases += 1;
    }
    box.appendChild(column);
  });
}

function drawNeurons(layers) {
  var n = studio.run.neuron_cells, columns = $("neurons").querySelectorAll(".layer");
  var hash = 0;
  layers.forEach(function (units, layer) {
    var canvases = columns[layer].querySelectorAll("canvas");
    units.forEach(function (cells, u) {
      var ctx = canvases[u].getContext("2d"), image = ctx.createImageData(n, n);
      hash = paint(image, cells, hash);
      ctx.putImageData(image, 0, 0);
    });
  });
  studio.neuronHash = hash;
  studio.neuronUpdates += 1;
}

function drawBoundary(grid) {
  var run = studio.run, ctx = boundary.getContext("2d");
  var w = boundary.width, h = boundary.height;
  if (grid) {
    var n = run.grid, image = ctx.createImageData(n, n);
    studio.gridHash = paint(image, grid, 0);
    studio.gridUpdates += 1;
    var off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, w, h);
  } else {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
  }
  var e = run.extent;
  run.points.forEach(function (p, i) {
    var x = (p[0] + e) / (2 * e) * w, y = (e - p[1]) / (2 * e) * h;
    var t = run.task === "classify" ? p[2] : (p[2] - run.low) / ((run.high - run.low) || 1);
    var c = [0, 1, 2].map(function (k) { return Math.round(COLOR0[k] + (COLOR1[k] - COLOR0[k]) * t); });
    var color = "rgb(" + c.join(",") + ")";
    ctx.beginPath();
    ctx.arc(x, y, 3.2, 0, 2 * Math.PI);
    if (run.validation[i]) {
      ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.stroke();
    } else {
      ctx.fillStyle = color; ctx.fill();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 0.8; ctx.stroke();
    }
  });
}

function drawCurve() {
  var ctx = curveCanvas.getContext("2d"), w = curveCanvas.width, h = curveCanvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  var curve = studio.curve;
  if (!curve.length) return;
  var top = 0;
  curve.forEach(function (e) {
    if (isFinite(e[1])) top = Math.max(top, e[1]);
    if (e[2] !== null && isFinite(e[2])) top = Math.max(top, e[2]);
  });
  top = top || 1;
  var left = 44, bottom = h - 22, last = Math.max(curve[curve.length - 1][0], 2);
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1;
  ctx.strokeRect(left, 6, w - left - 6, bottom - 6);
  ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
  ctx.fillText(top.toPrecision(3), 2, 14);
  ctx.fillText("0", 30, bottom);
  ctx.fillText("epoch " + curve[curve.length - 1][0], w - 90, h - 6);
  [[1, "#183a59"], [2, "#f59322"]].forEach(function (series) {
    ctx.strokeStyle = series[1]; ctx.lineWidth = 2; ctx.beginPath();
    curve.forEach(function (e, i) {
      var v = e[series[0]];
      if (v === null || !isFinite(v)) return;
      var x = left + (e[0] - 1) / (last - 1) * (w - left - 6);
      var y = bottom - v / top * (bottom - 6);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
}

function post(action) {
  if (!studio.run) return Promise.resolve();
  return fetch("/api/runs/" + studio.run.id + "/" + action, { method: "POST" });
}

function statusText() {
  var last = studio.curve[studio.curve.length - 1];
  if (!last) return "Starting…";
  var val = last[2] === null ? "–" : last[2].toFixed(4);
  return "epoch " + last[0] + " of " + studio.run.epochs + " · training loss " + last[1].toFixed(4) +
    " · validation loss " + val;
}

function start() {
  stop();
  showError("");
  saveToUrl();
  studio.curve = [];
  studio.gridUpdates = 0;
  studio.neuronUpdates = 0;
  drawCurve();
  setState("running", "Starting…");
  source = new EventSource("/api/run?" + query(readSettings()));
  source.addEventListener("start", function (ev) {
    studio.run = JSON.parse(ev.data);
    drawBoundary(null);
    buildNeurons(studio.run);
    if (stepWhenStarted) { stepWhenStarted = false; post("step"); }
  });
  source.addEventListener("progress", function (ev) {
    var p = JSON.parse(ev.data);
    Array.prototype.push.apply(studio.curve, p.epochs);
    if (p.grid) drawBoundary(p.grid);
    if (p.neurons) drawNeurons(p.neurons);
    drawCurve();
    if (p.paused) setState("paused", "Paused at " + statusText());
    else if (studio.state !== "paused") setState("running", statusText());
  });
  source.addEventListener("done", function (ev) {
    var d = JSON.parse(ev.data);
    setState("done", "Done (" + d.stop_reason + "): " + statusText());
    stop();
  });
  source.addEventListener("error", function (ev) {
    if (ev.data) {
      showError(JSON.parse(ev.data).message);
      setState("ready", "Not started: fix the setting above.");
    } else if (studio.state === "running" || studio.state === "paused") {
      showError("The connection to backprop studio was lost.");
      setState("ready", "Stopped.");
    }
    stop();
  });
}

function stop() {
  if (source) { source.close(); source = null; }
}

function reset() {
  stop();
  studio.run = null;
  studio.curve = [];
  showError("");
  drawCurve();
  $("neurons").textContent = "";
  studio.neuronCanvases = 0;
  var ctx = boundary.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, boundary.width, boundary.height);
  setState("ready", "Ready.");
}

buildFeatureBoxes();
showSettings(settingsFromUrl());
saveToUrl();
reset();
form.addEventListener("change", saveToUrl);
form.addEventListener("submit", function (ev) { ev.preventDefault(); start(); });
$("start").addEventListener("click", start);
$("reset").addEventListener("click", reset);
$("pause").addEventListener("click", function () {
  if (studio.state === "paused") { post("resume"); setState("running", statusText()); }
  else { post("pause"); }
});
$("step").addEventListener("click", function () {
  if (source && studio.run) { post("step"); }
  else { stepWhenStarted = true; start(); }
});
