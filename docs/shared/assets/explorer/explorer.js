// The loss-surface explorer of tutorial 4. Every run it draws was trained by torch.optim
// at build (tools/explorer.py); this script only decodes the runs and draws them.
(() => {
  "use strict";
  const script = document.currentScript;
  const root = document.getElementById("lr-explorer");
  if (!root || !script) return;
  const zh = document.documentElement.lang.startsWith("zh");
  const lang = zh ? "zh" : "en";
  const T = {
    en: {
      optimizer: "Optimizer", momentumOpt: "SGD with momentum", lr: "Learning rate",
      momentum: "Momentum", defaults: "Adam and RMSprop run at torch's defaults.",
      reduction: "Reduction", centred: "centre x (x − x̄)", epoch: "Epoch", play: "Play",
      pause: "Pause", loss: "loss", steep: "steep", flat: "flat", start: "start",
      yhat: "ŷ at x = 4",
      surface: "Contours of the loss L(w, b), the Hessian's two eigenvectors through the minimum, and the path of the chosen run from the start",
      lossPlot: "The chosen run's loss against the epoch, on a logarithmic scale",
      after: (l, e, s) => `loss ${l} after ${e} epochs (${s} at the start)`,
      diverges: (k) => `diverges: the loss passed 10⁴ at epoch ${k}`,
      inf: (m) => ` and became inf at epoch ${m}`,
      source: (v) => `Every run computed by torch ${v} at build.`,
    },
    zh: {
      optimizer: "优化器", momentumOpt: "带动量的 SGD", lr: "学习率", momentum: "动量",
      defaults: "Adam 和 RMSprop 的超参数取 torch 的默认值。", reduction: "归约方式",
      centred: "把 x 中心化（x − x̄）", epoch: "轮数", play: "播放", pause: "暂停",
      loss: "损失", steep: "陡峭方向", flat: "平坦方向", start: "起点",
      yhat: "x = 4 处的 ŷ",
      surface: "损失 L(w, b) 的等高线、海森矩阵的两个特征向量（画成过最小值点的直线），以及所选训练从起点出发走过的路径",
      lossPlot: "所选训练的损失随轮数的变化，纵轴为对数刻度",
      after: (l, e, s) => `训练 ${e} 轮后损失为 ${l}（初始为 ${s}）`,
      diverges: (k) => `发散：损失在第 ${k} 轮超过 10⁴`,
      inf: (m) => `，并在第 ${m} 轮变成 inf`,
      source: (v) => `所有训练都由 torch ${v} 在构建时算出。`,
    },
  }[lang];
  const fixed = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const plain = new Intl.NumberFormat(lang, { maximumSignificantDigits: 3 });
  const two = new Intl.NumberFormat(lang, { minimumSignificantDigits: 2, maximumSignificantDigits: 2 });
  const three = new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  const sci = new Intl.NumberFormat(lang, { notation: "scientific", minimumSignificantDigits: 2, maximumSignificantDigits: 2 });
  // 2 significant digits; outside [0.01, 10⁴) as 1.9e-3 (the mantissa in the page's language).
  const fmtLoss = (v) => v >= 0.01 && v < 1e4 ? two.format(v)
    : sci.formatToParts(v).map((p) => p.type === "exponentSeparator" ? "e" : p.value).join("");
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent, text) {
    const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  const field = (parent, id, label) => {
    const div = el("div", { class: "lrx-field" }, parent);
    el("label", { for: id }, div, label);
    return div;
  };
  const sup = (n) => String(n).replace(/./g, (c) => "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"["-0123456789".indexOf(c)]);
  const range = (parent, id, max, value) =>
    el("input", { type: "range", id, min: 0, max, step: 1, value }, parent);

  // The data (about 50 KB) loads as the reader nears the explorer, as the page's figures do.
  const load = () => fetch(new URL("data.json", script.src)).then((r) => r.json()).then(init);
  if (!("IntersectionObserver" in window)) load();
  else {
    const near = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) { near.disconnect(); load(); }
    }, { rootMargin: "800px 0px" });
    near.observe(root);
  }

  function init(data) {
    const q = data.q, ql = data.ql, last = data.epochs;
    const cache = new Map();
    // A series [first, k]: first, then the cumulative sums of differences[k].
    const series = ([first, k], scale) => {
      const diffs = data.differences[k], out = [first * scale];
      let v = first;
      for (const d of diffs) out.push((v += d) * scale);
      return out;
    };

    // Controls
    root.querySelector(".lr-explorer__nojs")?.remove();
    const controls = el("div", { class: "lrx-controls" }, root);
    const select = el("select", { id: "lrx-optimizer" }, field(controls, "lrx-optimizer", T.optimizer));
    for (const [value, label] of [["SGD", "SGD"], ["SGD-momentum", T.momentumOpt], ["Adam", "Adam"], ["RMSprop", "RMSprop"]])
      el("option", { value }, select, label);

    const lrField = field(controls, "lrx-lr", T.lr);
    const lrValue = el("output", { id: "lrx-lr-value", for: "lrx-lr" }, lrField);
    const track = el("div", { class: "lrx-track" }, lrField);
    const lr = range(track, "lrx-lr", data.lr.length - 1, data.lr.indexOf(0.01));
    const bound = el("span", { id: "lrx-bound", class: "lrx-bound" }, track);

    const mField = field(controls, "lrx-momentum", T.momentum);
    const mValue = el("output", { id: "lrx-momentum-value", for: "lrx-momentum" }, mField);
    const momentum = range(mField, "lrx-momentum", data.momentum.length - 1, 0);
    const note = el("p", { class: "lrx-note", id: "lrx-momentum-note", hidden: "" }, mField, T.defaults);
    momentum.setAttribute("aria-describedby", "lrx-momentum-note");

    const set = el("fieldset", { class: "lrx-field" }, controls);
    el("legend", {}, set, T.reduction);
    for (const value of ["sum", "mean"]) {
      const label = el("label", {}, set);
      el("input", { type: "radio", name: "lrx-reduction", value }, label).checked = value === "sum";
      label.append(" " + value);
    }
    const cLabel = el("label", { class: "lrx-field lrx-check" }, controls);
    const centred = el("input", { type: "checkbox", id: "lrx-centred" }, cLabel);
    cLabel.append(" " + T.centred);

    // Plots
    const plots = el("div", { class: "lrx-plots" }, root);
    const S = 320, PAD = 34; // the surface's plot area and its margin for the axes
    const surf = el("svg:svg", { id: "lrx-surface", role: "img", "aria-label": T.surface, viewBox: `0 0 ${S + PAD + 8} ${S + PAD + 8}` }, plots);
    el("svg:rect", { x: PAD, y: 8, width: S, height: S }, el("svg:clipPath", { id: "lrx-clip" }, surf));
    const axesLayer = el("svg:g", {}, surf);
    const inside = el("svg:g", { "clip-path": "url(#lrx-clip)" }, surf);
    const contourLayer = el("svg:g", {}, inside);
    const eigen = el("svg:g", {}, inside);
    const rest = el("svg:path", { id: "lrx-path-rest", class: "lrx-rest" }, inside);
    const path = el("svg:path", { id: "lrx-path", class: "lrx-path" }, inside);
    const markLayer = el("svg:g", {}, inside);
    const point = el("svg:circle", { id: "lrx-point", class: "lrx-point", r: 5 }, inside);

    const LW = 356, LH = 240, L0 = 40, LT = 24, LB = 40; // the loss plot and its margins
    const YMIN = -8, YMAX = 4; // log10 of the loss axis: a diverging run leaves at the top
    const lossSvg = el("svg:svg", { id: "lrx-loss-plot", role: "img", "aria-label": T.lossPlot, viewBox: `0 0 ${LW + 14} ${LH}` }, plots);
    el("svg:rect", { x: L0, y: LT, width: LW - L0, height: LH - LT - LB }, el("svg:clipPath", { id: "lrx-clip-loss" }, lossSvg));
    const ex = (e) => L0 + (e / last) * (LW - L0);
    const ly = (g) => LT + ((YMAX - g) / (YMAX - YMIN)) * (LH - LT - LB);
    const lossAxes = el("svg:g", { class: "lrx-axes" }, lossSvg);
    for (let g = YMIN; g <= YMAX; g += 2) {
      el("svg:line", { x1: L0, x2: LW, y1: ly(g), y2: ly(g), class: "lrx-grid" }, lossAxes);
      el("svg:text", { x: L0 - 4, y: ly(g) + 4, "text-anchor": "end" }, lossAxes, g ? "10" + sup(g) : "1");
    }
    for (let e = 0; e <= last; e += 25) el("svg:text", { x: ex(e), y: LH - LB + 16, "text-anchor": "middle" }, lossAxes, String(e));
    el("svg:text", { x: (L0 + LW) / 2, y: LH - 4, "text-anchor": "middle" }, lossAxes, T.epoch.toLowerCase());
    el("svg:text", { x: 4, y: 12 }, lossAxes, T.loss);
    const lossClip = el("svg:g", { "clip-path": "url(#lrx-clip-loss)" }, lossSvg);
    const lossLine = el("svg:path", { id: "lrx-loss-line", class: "lrx-path" }, lossClip);
    const lossPoint = el("svg:circle", { id: "lrx-loss-point", class: "lrx-point", r: 4 }, lossClip);

    // Epochs and numbers
    const time = el("div", { class: "lrx-time" }, root);
    const play = el("button", { type: "button", id: "lrx-play", class: "md-button" }, time, T.play);
    const eField = field(time, "lrx-epoch", T.epoch);
    const eValue = el("output", { id: "lrx-epoch-value", for: "lrx-epoch" }, eField);
    const epoch = range(eField, "lrx-epoch", last, last);
    const dl = el("dl", { class: "lrx-numbers" }, root);
    const out = {};
    for (const [key, label] of [["w", "w"], ["b", "b"], ["loss", T.loss], ["yhat", T.yhat]]) {
      const div = el("div", {}, dl);
      el("dt", {}, div, label);
      out[key] = el("dd", { id: "lrx-" + key }, div);
    }
    const status = el("p", { id: "lrx-status", class: "lrx-status" }, root);
    const live = el("div", { id: "lrx-live", class: "lrx-sr", "aria-live": "polite" }, root);
    el("p", { class: "lrx-source" }, root, T.source(data.torch));

    // State
    const reduction = () => root.querySelector('input[name="lrx-reduction"]:checked').value;
    const setting = () => (centred.checked ? 2 : 0) + (reduction() === "mean" ? 1 : 0);
    // runs: SGD's (learning rate × momentum), then Adam's and RMSprop's learning rates.
    const nLr = data.lr.length, nM = data.momentum.length;
    const runIndex = () => {
      const i = +lr.value, o = select.value;
      return o === "Adam" ? nLr * nM + i : o === "RMSprop" ? nLr * (nM + 1) + i : i * nM + +momentum.value;
    };
    let geometry = -1; // the view the surface is drawn for (0 raw, 1 centred)
    let toX, toY;
    const views = []; // per view: its axes, contours and marks, drawn once, then shown or hidden

    function run() {
      const i = runIndex(), d = setting(), key = i * 4 + d;
      if (!cache.has(key)) {
        const [w, b, y, l, inf] = data.runs[i][d];
        const r = { w: series(w, q), b: series(b, q), y: series(y, q), l: series(l, ql), inf };
        r.n = r.w.length;
        r.xy = r.w.map((v, e) => `${toX(v).toFixed(1)} ${toY(r.b[e]).toFixed(1)}`);
        r.loss = r.l.map((g, e) => `${ex(e).toFixed(1)} ${ly(g).toFixed(1)}`);
        cache.set(key, r);
      }
      return cache.get(key);
    }

    function drawSurface(d) {
      const s = data.surfaces[d];
      const [w0, w1, b0, b1] = s.view, k = S / (w1 - w0);
      toX = (w) => PAD + (w - w0) * k;
      toY = (b) => 8 + (b1 - b) * k;
      views.forEach((v) => v.forEach((g) => g.setAttribute("display", "none")));
      if (views[d >> 1]) return views[d >> 1].forEach((g) => g.removeAttribute("display"));
      const axes = el("svg:g", { class: "lrx-axes" }, axesLayer);
      const contours = el("svg:g", { class: "lrx-contours" }, contourLayer);
      const marks = el("svg:g", {}, markLayer);
      views[d >> 1] = [axes, contours, marks];
      el("svg:rect", { x: PAD, y: 8, width: S, height: S, class: "lrx-frame" }, axes);
      for (let t = Math.ceil(w0); t <= w1; t++) el("svg:text", { x: toX(t), y: S + 24, "text-anchor": "middle" }, axes, String(t));
      for (let t = Math.ceil(b0); t <= b1; t++) el("svg:text", { x: PAD - 6, y: toY(t) + 4, "text-anchor": "end" }, axes, String(t));
      el("svg:text", { x: PAD + S, y: S + PAD + 6, "text-anchor": "end", class: "lrx-axis" }, axes, "w");
      el("svg:text", { x: 4, y: 20, class: "lrx-axis" }, axes, "b");
      contours.setAttribute("transform", `matrix(${k} 0 0 ${-k} ${PAD - w0 * k} ${8 + b1 * k})`);
      for (const p of data.contours[s.centred ? "centred" : "raw"])
        el("svg:path", { d: p, class: "lrx-contour", "vector-effect": "non-scaling-stroke" }, contours);
      const [ws, bs] = data.start, [wm, bm] = s.minimum;
      el("svg:circle", { cx: toX(ws), cy: toY(bs), r: 5, class: "lrx-start" }, marks);
      el("svg:text", { x: toX(ws) + 8, y: toY(bs) - 8 }, marks, T.start);
      el("svg:path", { d: `M${toX(wm) - 6} ${toY(bm) - 6}l12 12m0 -12l-12 12`, class: "lrx-min" }, marks);
    }

    function drawEigen(d) {
      const s = data.surfaces[d], [wm, bm] = s.minimum, [w0, w1, b0, b1] = s.view;
      eigen.replaceChildren();
      [T.flat, T.steep].forEach((name, j) => {
        const [vw, vb] = s.eigenvectors[j], far = 2 * (w1 - w0);
        el("svg:line", { x1: toX(wm - far * vw), y1: toY(bm - far * vb), x2: toX(wm + far * vw), y2: toY(bm + far * vb), class: "lrx-eigen" }, eigen);
        // Labelled near where it leaves the view, clear of the path: flat upwards (or
        // leftwards), above the line; steep towards smaller w (or downwards), below it.
        const e = 1e-9, sign = j ? (vw > e ? -1 : vw < -e ? 1 : vb > 0 ? -1 : 1) : (vb > e ? 1 : vb < -e ? -1 : vw > 0 ? -1 : 1);
        const t = Math.min(...[[vw, w0, w1, wm], [vb, b0, b1, bm]].filter(([v]) => Math.abs(v) > e)
          .map(([v, lo, hi, m]) => ((sign * v > 0 ? hi : lo) - m) / (sign * v))) * 0.86;
        const x = toX(wm + sign * t * vw), y = toY(bm + sign * t * vb), left = x < PAD + S / 2;
        el("svg:text", { x: x + (left ? 4 : -4), y: y + (j ? 16 : -6), "text-anchor": left ? "start" : "end" }, eigen,
          `${name}${zh ? "，" : ", "}λ = ${plain.format(s.eigenvalues[j])}`);
      });
    }

    let announce = 0, drawn = -1;
    function update(fromControl) {
      const d = setting(), o = select.value;
      if (geometry !== (d >> 1)) {
        geometry = d >> 1;
        drawSurface(d); // a run's cached screen coordinates are for its own view (its key)
      }
      if (d !== drawn) drawEigen((drawn = d));
      const r = run(), e = +epoch.value, shown = Math.min(e, r.n - 1);
      lrValue.textContent = plain.format(data.lr[+lr.value]);
      const adaptive = o === "Adam" || o === "RMSprop"; // no momentum slider: torch's defaults
      mValue.textContent = adaptive ? "—" : plain.format(data.momentum[+momentum.value]);
      lr.setAttribute("aria-valuetext", lrValue.textContent);
      momentum.setAttribute("aria-valuetext", mValue.textContent);
      momentum.disabled = adaptive;
      note.hidden = !adaptive;
      eValue.textContent = String(e);
      // The bound's place on the track: log-interpolated between the grid's learning rates.
      const b = data.surfaces[d].bound, g = data.lr, i = Math.max(0, Math.min(g.length - 2, g.findLastIndex((v) => v <= b)));
      const f = Math.max(0, Math.min(1, (i + Math.log(b / g[i]) / Math.log(g[i + 1] / g[i])) / (g.length - 1)));
      bound.dataset.fraction = f.toFixed(4);
      track.style.setProperty("--f", f);
      bound.textContent = `2/λmax = ${three.format(b)}`;

      path.setAttribute("d", "M" + r.xy.slice(0, shown + 1).join("L"));
      rest.setAttribute("d", "M" + r.xy.join("L"));
      lossLine.setAttribute("d", "M" + r.loss.slice(0, shown + 1).join("L"));
      const [px, py] = r.xy[shown].split(" "), [qx, qy] = r.loss[shown].split(" ");
      point.setAttribute("cx", px); point.setAttribute("cy", py);
      lossPoint.setAttribute("cx", qx); lossPoint.setAttribute("cy", qy);
      const gone = e > r.n - 1;
      point.style.visibility = lossPoint.style.visibility = gone ? "hidden" : "";
      out.w.textContent = gone ? "—" : fixed.format(r.w[e]);
      out.b.textContent = gone ? "—" : fixed.format(r.b[e]);
      out.yhat.textContent = gone ? "—" : fixed.format(r.y[e]);
      out.loss.textContent = gone ? "—" : fmtLoss(10 ** r.l[e]);
      const text = r.n < last + 1
        ? T.diverges(r.n - 1) + (r.inf === null ? "" : T.inf(r.inf))
        : T.after(fmtLoss(10 ** r.l[last]), last, fmtLoss(10 ** r.l[0])) + (r.inf === null ? "" : T.inf(r.inf));
      status.textContent = text[0].toUpperCase() + text.slice(1) + (zh ? "。" : ".");
      if (fromControl) {
        clearTimeout(announce);
        const label = `${select.selectedOptions[0].text}${zh ? "，" : ", "}${T.lr} ${lrValue.textContent}${zh ? "：" : ": "}`;
        announce = setTimeout(() => { live.textContent = label + status.textContent; }, 300);
      }
    }

    // Events: the optimizer and the momentum slider agree (SGD is momentum 0).
    select.addEventListener("change", () => {
      if (select.value === "SGD") momentum.value = 0;
      if (select.value === "SGD-momentum" && +momentum.value === 0) momentum.value = 2;
      update(true);
    });
    momentum.addEventListener("input", () => {
      select.value = +momentum.value > 0 ? "SGD-momentum" : "SGD";
      update(true);
    });
    for (const input of [lr, centred, ...root.querySelectorAll('input[name="lrx-reduction"]')])
      input.addEventListener(input === lr ? "input" : "change", () => update(true));
    let timer = 0;
    const stop = () => { clearInterval(timer); timer = 0; play.textContent = T.play; };
    epoch.addEventListener("input", () => { stop(); update(false); });
    play.addEventListener("click", () => {
      if (timer) return stop();
      if (+epoch.value >= last) epoch.value = 0;
      play.textContent = T.pause;
      update(false);
      timer = setInterval(() => {
        epoch.value = +epoch.value + 1;
        update(false);
        if (+epoch.value >= last) stop();
      }, 40);
    });

    update(false);
    root.dataset.ready = "true";
  }
})();
