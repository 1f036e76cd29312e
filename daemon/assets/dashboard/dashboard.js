// The dashboard: one read, GET /metrics/dashboard, every 2 s while the tab is visible,
// drawn into hand-made SVG. No framework, no build step; loaded with `defer`. What the
// server sends goes into the page as text (textContent, setAttribute), never as HTML.
"use strict";

(() => {
  const KEY = "sentimentd.dashboard.key", DEMO_KEY = "sentimentd.demo.key";
  const PERIOD = 2000, NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  let data = null, timer = 0, inflight = false, stopped = false;
  let failures = 0, updates = 0, lastOk = 0, charted = false;
  const drawn = {}; // chart -> the inputs it was drawn from

  // ---- formatting and building

  const int = (n) => Number(n).toLocaleString("en-US");
  const pct = (x, d = 1) => (x * 100).toFixed(d) + "%";
  const has = (x) => typeof x === "number" && isFinite(x);
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const stamp = (ms) => new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

  function ago(ms, now) {
    const s = Math.round((now - ms) / 1000), a = Math.abs(s);
    if (a < 5) return "just now";
    const t = a < 45 ? a + " s" : a < 5400 ? Math.round(a / 60) + " min"
      : a < 129600 ? Math.round(a / 3600) + " h" : Math.round(a / 86400) + " days";
    return s > 0 ? t + " ago" : "in " + t;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** A <time> showing `text`, with the exact time as its datetime and title. */
  function time(ms, text) {
    const t = el("time", "", text);
    t.dateTime = new Date(ms).toISOString();
    t.title = stamp(ms);
    return t;
  }

  function svg(tag, attrs, parent, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.append(e);
    return e;
  }

  /** Round steps from 0 to at least `max`. */
  function ticks(max) {
    const raw = Math.max(1, max) / 4, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw && s >= 1);
    const out = [];
    for (let v = 0; v < max + step; v += step) out.push(v);
    return out.length > 1 ? out : [0, step];
  }

  /** Room left of the plot for the y axis's longest label (counts grow to 4+ digits). */
  const axisWidth = (max) => 14 + 7 * int(ticks(max).at(-1)).length;

  /** An SVG of width W (the box's width, so text keeps its size) with a y axis of counts. */
  function frame(W, H, L, R, T, B, max, label) {
    const ys = ticks(max), top = ys[ys.length - 1];
    const y = (n) => T + (H - T - B) * (1 - n / top);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
    for (const n of ys) {
      svg("line", { class: "gridline", x1: L, x2: W - R, y1: y(n), y2: y(n) }, root);
      svg("text", { x: L - 6, y: y(n) + 4, "text-anchor": "end" }, root, int(n));
    }
    svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }, root);
    return [root, y];
  }

  /** A visually hidden table of a chart's numbers, for screen readers (in a clipped
   * box: a table ignores its own width). */
  function srTable(caption, head, rows) {
    const box = el("div", "sr-only"), table = el("table");
    table.append(el("caption", "", caption));
    table.createTHead().insertRow().append(...head.map((h) => el("th", "", h)));
    const body = table.createTBody();
    for (const row of rows) body.insertRow().append(...row.map((c) => el("td", "", c)));
    box.append(table);
    return box;
  }

  /** Whether a chart's inputs changed since it was drawn; remembers them. */
  function changed(id, inputs) {
    const key = JSON.stringify(inputs);
    return drawn[id] !== key && (drawn[id] = key);
  }

  const widthOf = (plot) => Math.max(300, Math.min(1100, Math.round(plot.clientWidth || 600)));

  // ---- reading

  function apiKey() {
    try {
      return sessionStorage.getItem(KEY) || sessionStorage.getItem(DEMO_KEY) || "";
    } catch {
      return "";
    }
  }

  async function read() {
    const headers = { Accept: "application/json" }, key = apiKey();
    if (key) headers.Authorization = "Bearer " + key;
    const abort = new AbortController(), limit = setTimeout(() => abort.abort(), 10000);
    let response, body = null;
    try {
      response = await fetch("/metrics/dashboard", { headers, cache: "no-store", signal: abort.signal });
      body = await response.json().catch(() => null);
    } catch {
      throw { status: 0, message: "The server cannot be reached. Is the daemon running?" };
    } finally {
      clearTimeout(limit);
    }
    if (response.ok) return body;
    const e = (body && body.error) || {};
    throw {
      status: response.status, code: e.code || "",
      message: e.message || `The server answered ${response.status}.`,
      retryAfter: Number(response.headers.get("Retry-After")) || 0,
    };
  }

  function schedule(ms) {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(poll, ms);
  }

  async function poll() {
    if (inflight || stopped) return;
    if (document.hidden) return setLive("paused", "Paused while hidden");
    inflight = true;
    setLive("fetching", "Updating…");
    try {
      const snapshot = await read();
      failures = 0;
      hideNotice();
      render(snapshot);
      document.body.dataset.updates = String(++updates);
      document.body.dataset.loaded = "1";
      setLive("ok", "Live · updated ");
      schedule(PERIOD);
    } catch (f) {
      failed(f);
    } finally {
      inflight = false;
    }
  }

  function failed(f) {
    failures++;
    if (f.status === 401 || f.status === 403) {
      stopped = true;
      clearTimeout(timer);
      setLive("auth", "API key needed");
      const bad = f.code !== "missing_api_key";
      openAuth(f.status === 403 ? "This key may not read the dashboard" : "This server needs an API key", bad);
      if (bad) {
        $("auth-error").textContent = (f.code === "invalid_api_key" ? "That key was not accepted: " : "") + f.message;
        $("auth-error").hidden = false;
        forgetKey();
      }
      return;
    }
    let wait = Math.min(60000, PERIOD * 2 ** Math.min(failures, 5)), message = f.message;
    if (f.status === 429) {
      wait = Math.max(wait, f.retryAfter * 1000);
      message = "Too many requests: the server asks to wait" + (f.retryAfter ? ` ${f.retryAfter} s.` : ".");
    }
    showNotice(`${message} Retrying in ${Math.round(wait / 1000)} s` +
      (data ? "; the figures below are from the last update." : "."));
    setLive("error", data ? "Stale · last update " : "Error");
    schedule(wait);
  }

  function setLive(state, text) {
    const live = $("live"), t = $("live-text");
    live.dataset.state = state;
    if (state === "ok") lastOk = Date.now();
    // "Updating" shows only when a read is slow, so the badge does not flicker.
    if (state === "fetching" && data) {
      return setTimeout(() => live.dataset.state === "fetching" && (t.textContent = text), 400);
    }
    t.replaceChildren(text);
    if (/update/.test(text) && lastOk) t.append(time(lastOk, clock(lastOk)));
  }

  function showNotice(message) {
    const n = $("notice");
    if (n.textContent !== message) n.textContent = message;
    n.hidden = false;
  }

  function hideNotice() {
    $("notice").hidden = true;
    $("notice").textContent = "";
  }

  // ---- the key

  function openAuth(title, focus) {
    $("auth-title").textContent = title;
    $("auth").hidden = false;
    $("key-toggle").setAttribute("aria-expanded", "true");
    $("key-forget").hidden = !apiKey();
    if (focus) $("key").focus();
  }

  function closeAuth() {
    $("auth").hidden = true;
    $("auth-error").hidden = true;
    $("key-toggle").setAttribute("aria-expanded", "false");
  }

  function forgetKey() {
    try {
      sessionStorage.removeItem(KEY);
      sessionStorage.removeItem(DEMO_KEY);
    } catch {
      // storage disabled: nothing was kept
    }
    $("key-forget").hidden = true;
  }

  function restart() {
    closeAuth();
    stopped = false;
    failures = 0;
    for (const k in drawn) delete drawn[k];
    poll();
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    if (!key) return $("key").focus();
    try {
      sessionStorage.setItem(KEY, key);
    } catch {
      showNotice("This browser does not allow keeping the key for this tab.");
    }
    $("key").value = "";
    restart();
    $("main").focus({ preventScroll: true });
  });
  $("key-forget").addEventListener("click", () => (forgetKey(), restart()));
  $("key-toggle").addEventListener("click", () => ($("auth").hidden ? openAuth("Use an API key", true) : closeAuth()));
  $("lc-key").addEventListener("click", () => openAuth("Use an API key", true));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) return poll();
    clearTimeout(timer);
    setLive("paused", "Paused while hidden");
  });
  document.addEventListener("keydown", (e) => e.key === "Escape" && hideTip());
  let resizing = 0;
  addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => data && render(data), 150);
  });

  // ---- rendering

  function render(d) {
    data = d;
    header(d, d.generated_unix_ms);
    tiles(d, d.metrics);
    accuracyChart(d);
    feedbackChart(d.feedback_volume);
    confidenceChart(d.confidence);
    if (!charted) performance.mark("first-chart");
    charted = true;
    lowConfidence(d, d.generated_unix_ms);
    alerts(d.alerts, d.generated_unix_ms);
  }

  function header(d, now) {
    const m = d.metrics, due = $("model-retrain"), r = m.retrain_due_unix_ms;
    $("model-version").textContent = d.model.version;
    $("model-age").replaceChildren(time(d.model.created_unix_ms, ago(d.model.created_unix_ms, now)));
    if (has(r)) {
      due.replaceChildren(time(r, r <= now ? "due now" : ago(r, now)));
      if (m.feedback_waiting) due.append(` (${int(m.feedback_waiting)} feedback waiting)`);
    } else if (d.model.schedule) {
      due.replaceChildren("on schedule ", el("code", "", d.model.schedule));
    } else {
      due.textContent = "no retrain scheduled";
    }
    const badge = $("view-badge");
    badge.hidden = false;
    badge.dataset.view = d.view;
    badge.textContent = d.view === "operator" ? "Operator view" : "User view";
    $("key-toggle").textContent = apiKey() ? "Change key" : "Use a key";
  }

  /** Fills a stat tile: data-value holds the JSON value, the text its formatted form. */
  function tile(metric, value, shown, sub, extra = {}) {
    const t = document.querySelector(`[data-metric="${metric}"]`);
    t.dataset.value = value === null || value === undefined ? "null" : JSON.stringify(value);
    Object.assign(t.dataset, extra);
    t.querySelector(".v").replaceChildren(...(value === null || value === undefined ? [el("span", "none", shown)] : shown));
    t.querySelector(".sub").textContent = sub;
    return t;
  }

  function tiles(d, m) {
    const live = m.live_accuracy, up = m.uptime_seconds;
    tile("total_predictions", m.total_predictions, [int(m.total_predictions)], up >= 5 ? "up " + ago(0, up * 1000).slice(0, -4) : "");
    tile("total_feedback", m.total_feedback, [int(m.total_feedback)],
      `${int(m.feedback_waiting || 0)} waiting for a retrain · ${int(m.feedback_held || 0)} held`);
    tile("low_confidence_count", m.low_confidence_count, [int(m.low_confidence_count)], `below ${pct(d.confidence.threshold, 0)} confidence`);
    tile("queue_pending", m.queue_pending, [int(m.queue_pending)], `to label · ${int(m.audit_sampled || 0)} audits drawn`);
    tile("test_accuracy", m.test_accuracy, has(m.test_accuracy) ? [pct(m.test_accuracy)] : "not measured", `${m.model_version} on the base test split`);
    tile("live_accuracy", live ? live.accuracy : null,
      live ? [pct(live.accuracy), " ", el("small", "", `(${pct(live.lower, 0).slice(0, -1)}–${pct(live.upper, 0)})`)] : "no audits yet",
      live ? `${int(live.correct)} of ${int(live.audited)} audits right · 95% interval` : "operator-labelled audit samples",
      { lower: live ? JSON.stringify(live.lower) : "null", upper: live ? JSON.stringify(live.upper) : "null" });
    tile("average_confidence", m.average_confidence, has(m.average_confidence) ? [pct(m.average_confidence)] : "no predictions yet",
      `of the last ${int(d.confidence.predictions)} predictions`);
    tile("alerts_unacknowledged", m.alerts_unacknowledged, [int(m.alerts_unacknowledged)], `of ${int(d.alerts.length)} in total`)
      .classList.toggle("warn", m.alerts_unacknowledged > 0);
  }

  // ---- accuracy over versions

  const SERIES = [
    ["base_test", "Base test", "s-base", -9, (x, y) => `M${x - 4.5} ${y}a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0-9 0z`],
    ["feedback_crossfit", "Feedback (cross-fitted)", "s-crossfit", -3, (x, y) => `M${x - 4} ${y - 4}h8v8h-8z`],
    ["audit", "Audit", "s-audit", 3, (x, y) => `M${x} ${y - 5.5}l5.5 5.5-5.5 5.5-5.5-5.5z`],
    ["live", "Live", "s-live", 9, (x, y) => `M${x} ${y - 5}l4.5 8h-9z`],
  ];
  const ACC = SERIES.slice(0, 3);

  function figure(v, key) {
    const x = key === "live" ? v.live_accuracy && v.live_accuracy.accuracy : v.accuracy && v.accuracy[key];
    return has(x) ? x : null;
  }
  const shownFigure = (v, key) => (figure(v, key) === null ? "–" : pct(figure(v, key)));
  const liveText = (l) => (l ? `${pct(l.accuracy)} (${pct(l.lower, 0)}–${pct(l.upper, 0)}), ${l.correct} of ${l.audited}` : "no audits yet");

  function accuracyChart(d) {
    const plot = $("acc-plot"), W = widthOf(plot), versions = d.versions;
    if (!changed("acc", [W, versions])) return;
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".ver");
    const refocus = focused && focused.dataset.version;
    hideTip();
    if (!versions.length) return plot.replaceChildren(el("p", "empty", "No model versions yet."));
    const H = 260, L = 44, R = 14, T = 14, B = 44;
    const values = versions.flatMap((v) => [...SERIES.map((s) => figure(v, s[0])),
      v.live_accuracy && v.live_accuracy.lower, v.live_accuracy && v.live_accuracy.upper]).filter(has);
    const lo = values.length ? Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20) : 0.5;
    const hi = values.length ? Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20) : 1;
    const y = (a) => (T + (H - T - B) * (1 - (a - lo) / (hi - lo || 1))).toFixed(1);
    const band = (W - L - R) / versions.length, k = Math.min(1, band / 40);
    const cx = (i) => L + band * (i + 0.5);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "group", "aria-labelledby": "acc-title" });
    versions.forEach((v, i) => v.current &&
      svg("rect", { class: "band", x: cx(i) - band / 2 + 1, y: T - 8, width: band - 2, height: H - B - T + 8, rx: 6 }, root));
    const step = hi - lo > 0.3 ? 0.1 : 0.05;
    for (let a = Math.ceil(lo / step - 1e-9) * step; a <= hi + 1e-9; a += step) {
      svg("line", { class: "gridline", x1: L, x2: W - R, y1: y(a), y2: y(a) }, root);
      svg("text", { x: L - 6, y: +y(a) + 4, "text-anchor": "end" }, root, pct(a, 0));
    }
    svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }, root);
    for (const [key, , cls, dx] of SERIES) {
      // One line per series, broken where a version has no figure.
      let path = "", pen = false;
      versions.forEach((v, i) => {
        const a = figure(v, key);
        if (a !== null) path += `${pen ? "L" : "M"}${(cx(i) + dx * k).toFixed(1)} ${y(a)}`;
        pen = a !== null;
      });
      if (path) svg("path", { class: "line " + cls, d: path }, root);
    }
    const every = Math.ceil(versions.length / Math.max(1, Math.floor((W - L - R) / 56)));
    versions.forEach((v, i) => {
      const x = cx(i), l = v.live_accuracy;
      const g = svg("g", {
        class: "ver", tabindex: "0", role: "img", "aria-label": describe(v),
        "data-version": v.version, "data-status": v.status, "data-current": String(v.current),
      }, root);
      svg("rect", { class: "hit", x: x - band / 2 + 2, y: T - 6, width: band - 4, height: H - T + 4, rx: 6 }, g);
      if (l) {
        const lx = x + 9 * k, u = y(l.upper), w = y(l.lower);
        svg("path", { class: "whisker s-live", d: `M${lx} ${u}V${w}M${lx - 4} ${u}h8M${lx - 4} ${w}h8` }, g);
      }
      for (const [key, , cls, dx, shape] of SERIES) {
        const a = figure(v, key);
        if (a !== null) svg("path", { class: `m ${cls}${v.status === "promoted" ? "" : " hollow"}`, d: shape(x + dx * k, +y(a)) }, g);
      }
      // A red cross too, so that rejection is not told by fill alone.
      if (v.status === "rejected") svg("path", { class: "cross", d: `M${x - 4} ${H - B - 12}l8 8m0-8-8 8` }, g);
      if (i % every === 0 || v.current) {
        svg("text", { x, y: H - B + 16, "text-anchor": "middle", class: "ax-label" + (v.current ? " current" : "") }, g, v.version);
        svg("text", { x, y: H - B + 30, "text-anchor": "middle", class: "status-text " + v.status }, g, v.current ? "serving" : v.status);
      }
      g.addEventListener("mouseenter", () => showTip(g, v));
      g.addEventListener("mouseleave", () => document.activeElement !== g && hideTip());
      g.addEventListener("focus", () => showTip(g, v));
      g.addEventListener("blur", hideTip);
    });
    // Each version's group is focusable and named with all its figures: the chart's text.
    plot.replaceChildren(root);
    const again = refocus && plot.querySelector(`.ver[data-version="${CSS.escape(refocus)}"]`);
    if (again) again.focus();
  }

  function describe(v) {
    const figures = ACC.filter((s) => figure(v, s[0]) !== null).map((s) => `${s[1]} ${shownFigure(v, s[0])}`);
    return `${v.version}, ${v.status}${v.current ? ", serving" : ""}. ${figures.join(", ") || "No accuracy measured"}. ` +
      `Live: ${liveText(v.live_accuracy)}. Gate: ${v.decision}`;
  }

  function showTip(g, v) {
    const tip = $("acc-tip"), dl = el("dl");
    const row = (k, val) => dl.append(el("dt", "", k), el("dd", "", val));
    const rows = Object.values(v.training_rows || {}).reduce((a, b) => a + b, 0);
    row("Status", v.status + (v.current ? ", serving" : ""));
    for (const s of ACC) row(s[1], shownFigure(v, s[0]));
    row("Live", liveText(v.live_accuracy));
    row("Trained", `${ago(v.created_unix_ms, data.generated_unix_ms)}${v.parent ? " from " + v.parent : ""}, ${int(rows)} rows`);
    tip.replaceChildren(el("h3", "", "Version " + v.version), dl, el("p", "decision", "Gate: " + v.decision));
    tip.hidden = false;
    g.setAttribute("aria-describedby", "acc-tip");
    // Beside the column, on whichever side has room.
    const box = tip.parentElement.getBoundingClientRect(), r = g.firstChild.getBoundingClientRect(), w = tip.offsetWidth;
    let left = r.right - box.left + 6;
    if (left + w > box.width) left = r.left - box.left - w - 6;
    if (left < 0) left = Math.max(0, Math.min(box.width - w, r.left - box.left + (r.width - w) / 2));
    tip.style.left = left + "px";
    tip.style.top = Math.max(0, r.top - box.top + 8) + "px";
  }

  const hideTip = () => ($("acc-tip").hidden = true);

  // ---- feedback volume

  const KINDS = [["corrections", "Corrections"], ["confirmations", "Confirmations"], ["labels", "Labels"], ["operator_labels", "Operator labels"]];
  const total = (b) => KINDS.reduce((a, [k]) => a + (b[k] || 0), 0);

  function span(ms) {
    const [n, unit] = ms >= 864e5 ? [ms / 864e5, "day"] : ms >= 36e5 ? [ms / 36e5, "hour"] : [ms / 6e4, "minute"];
    return n === 1 ? unit : `${n} ${unit}s`;
  }

  function feedbackChart(fv) {
    const plot = $("fb-plot"), W = widthOf(plot), size = fv.bucket_ms, list = fv.buckets;
    if (!changed("fb", [W, fv])) return;
    const sums = KINDS.map(([k]) => list.reduce((a, b) => a + (b[k] || 0), 0)), all = sums.reduce((a, b) => a + b, 0);
    $("fb-legend").replaceChildren(...KINDS.map(([k, name], i) => {
      const li = el("li");
      li.append(el("span", "swatch f-" + k), name + " ", el("b", "", int(sums[i])));
      return li;
    }));
    if (!list.length) {
      $("fb-caption").textContent = "";
      return plot.replaceChildren(el("p", "empty", "No feedback yet."));
    }
    // Buckets with no feedback are left out of the JSON: draw them as zeros.
    const first = list[0].start_unix_ms, last = list[list.length - 1].start_unix_ms;
    const byStart = new Map(list.map((b) => [b.start_unix_ms, b]));
    let slots = list;
    if (size > 0 && (last - first) / size < 240) {
      slots = [];
      for (let t = first; t <= last; t += size) slots.push(byStart.get(t) || { start_unix_ms: t });
    }
    const max = Math.max(...slots.map(total));
    const H = 220, L = axisWidth(max), R = 8, T = 10, B = 26;
    const [root, y] = frame(W, H, L, R, T, B, max, `Feedback per ${span(size)}: ${int(all)} in total`);
    const band = (W - L - R) / slots.length, bw = Math.max(2, Math.min(40, band * 0.72));
    const every = Math.ceil(slots.length / Math.max(1, Math.floor((W - L - R) / 64)));
    const tick = (ms) => size >= 864e5 ? new Date(ms).toLocaleDateString([], { month: "short", day: "numeric" })
      : new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    slots.forEach((b, i) => {
      const x = L + band * i + (band - bw) / 2;
      const g = svg("g", { "data-start": String(b.start_unix_ms), "data-bucket-total": String(total(b)) }, root);
      let acc = 0;
      for (const [k] of KINDS) {
        const n = b[k] || 0;
        if (n) svg("rect", { class: "f-" + k, x, width: bw, y: y(acc + n), height: y(acc) - y(acc + n) }, g);
        acc += n;
      }
      svg("title", {}, g, `${stamp(b.start_unix_ms)}: ` + KINDS.map(([k, name]) => `${name.toLowerCase()} ${b[k] || 0}`).join(", "));
      if (i % every === 0) svg("text", { x: x + bw / 2, y: H - B + 16, "text-anchor": "middle" }, root, tick(b.start_unix_ms));
    });
    plot.replaceChildren(root, srTable(`Feedback per ${span(size)}`, ["From", ...KINDS.map((k) => k[1]), "Total"],
      list.map((b) => [stamp(b.start_unix_ms), ...KINDS.map(([k]) => String(b[k] || 0)), String(total(b))])));
    $("fb-caption").replaceChildren(`${int(all)} feedback rows in ${span(size)} buckets, from `,
      time(first, stamp(first)), " to ", time(last + size, stamp(last + size)), ".");
  }

  // ---- confidence histogram

  function confidenceChart(c) {
    const plot = $("conf-plot"), W = widthOf(plot);
    if (!changed("conf", [W, c])) return;
    const max = Math.max(...c.bins.map((b) => b.count));
    const H = 220, L = Math.max(40, axisWidth(max)), R = 10, T = 22, B = 26;
    const [root, y] = frame(W, H, L, R, T, B, max,
      `Confidence of the last ${c.predictions} predictions, in bins from 50% to 100%`);
    const x = (p) => L + (W - L - R) * ((p - 0.5) / 0.5);
    for (const b of c.bins) {
      const x0 = x(b.lower) + 1.5;
      svg("title", {}, svg("rect", {
        class: "bar" + (b.upper <= c.threshold + 1e-9 ? " low" : ""), x: x0, width: Math.max(1, x(b.upper) - 1.5 - x0),
        y: y(b.count), height: H - B - y(b.count), rx: 2, "data-count": String(b.count), "data-lower": b.lower, "data-upper": b.upper,
      }, root), `${pct(b.lower, 0)}–${pct(b.upper, 0)}: ${int(b.count)} predictions`);
    }
    for (let p = 5; p <= 10; p++) svg("text", { x: x(p / 10), y: H - B + 16, "text-anchor": p < 10 ? "middle" : "end" }, root, p * 10 + "%");
    if (has(c.mean)) svg("line", { class: "mean-line", x1: x(c.mean), x2: x(c.mean), y1: T, y2: H - B }, root);
    const tx = x(c.threshold), right = tx < W - 150;
    svg("line", { class: "threshold", x1: tx, x2: tx, y1: T - 14, y2: H - B }, root);
    svg("text", { x: tx + (right ? 6 : -6), y: T - 6, class: "threshold-label", "text-anchor": right ? "start" : "end" },
      root, `low-confidence below ${pct(c.threshold, 0)}`);
    plot.replaceChildren(root, srTable("Predictions by confidence", ["Confidence", "Predictions"],
      c.bins.map((b) => [`${pct(b.lower, 0)} to ${pct(b.upper, 0)}`, String(b.count)])));
    $("conf-caption").textContent = c.predictions
      ? `${int(c.predictions)} recent predictions, mean confidence ${has(c.mean) ? pct(c.mean) : "–"} (dotted line); ` +
        `the dashed line is the low-confidence threshold, ${pct(c.threshold, 0)}.`
      : "No predictions yet.";
  }

  // ---- tables

  /** A table row; each cell carries its column's name for the stacked phone layout. */
  function tableRow(table, cells) {
    const tr = el("tr"), head = table.tHead.rows[0].cells;
    cells.forEach((c, i) => {
      c.dataset.label = head[i].textContent;
      tr.append(c);
    });
    return tr;
  }

  function cell(cls, content) {
    const td = el("td", cls);
    td.append(content);
    return td;
  }

  function lowConfidence(d, now) {
    const rows = d.low_confidence, table = $("low-confidence");
    $("lc-queue").textContent = `${int(d.metrics.queue_pending)} open in the review queue`;
    $("lc-operators").hidden = !!rows;
    $("lc-empty").hidden = !rows || rows.length > 0;
    table.hidden = !rows || !rows.length;
    table.tBodies[0].replaceChildren(...(rows || []).map((p) => {
      const tr = tableRow(table, [cell("text", p.text), cell("", el("span", "lbl " + p.label, p.label)),
        cell("num", pct(p.confidence)), cell("", p.model_version), cell("", time(p.created_unix_ms, ago(p.created_unix_ms, now)))]);
      tr.dataset.id = p.id;
      tr.cells[2].dataset.value = JSON.stringify(p.confidence);
      return tr;
    }));
  }

  function alerts(list, now) {
    const table = $("alerts"), open = list.filter((a) => !a.acknowledged).length;
    table.hidden = !list.length;
    $("alerts-empty").hidden = list.length > 0;
    $("alerts-count").textContent = list.length ? `${int(open)} open of ${int(list.length)}` : "";
    table.tBodies[0].replaceChildren(...list.slice().reverse().map((a) => {
      const state = a.acknowledged ? "acknowledged" : "open";
      const tr = tableRow(table, [cell("", time(a.at_unix_ms, ago(a.at_unix_ms, now))), cell("", a.rule.replace(/_/g, " ")),
        cell("text", a.message), cell("", a.model_version), cell("", el("span", "state " + state, state))]);
      tr.dataset.alertId = a.id;
      tr.dataset.acknowledged = a.acknowledged;
      return tr;
    }));
  }

  poll();
})();
