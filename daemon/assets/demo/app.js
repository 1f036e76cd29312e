// The demo page's behaviour. It talks to the daemon only through the public API:
// GET /model_info, POST /predict?explain=true and POST /feedback. No framework, no
// build step; loaded with `defer`, so the DOM is ready when this runs.
"use strict";

(() => {
  const HISTORY_KEY = "sentimentd.demo.history";
  const API_KEY_KEY = "sentimentd.demo.key";
  const HISTORY_LIMIT = 25;
  const SAMPLES = [
    "A gorgeous, witty, seductive movie.",
    "The plot is paper-thin and the jokes fall flat.",
    "Not bad at all, I would watch it again.",
    "It is not that the film is boring, it is just far too long.",
    "An utterly charming, if slight, comedy.",
    "I wanted to like it, but I could not.",
  ];

  const $ = (id) => document.getElementById(id);
  const els = {
    text: $("text"),
    predictForm: $("predict-form"),
    predict: $("predict"),
    clear: $("clear"),
    samples: $("samples"),
    result: $("result"),
    announce: $("announce"),
    label: $("label"),
    confidenceText: $("confidence-text"),
    meter: $("meter"),
    meterFill: $("meter-fill"),
    unsure: $("unsure"),
    resultMeta: $("result-meta"),
    towardsPositive: $("towards-positive"),
    towardsNegative: $("towards-negative"),
    negationHint: $("negation-hint"),
    wrong: $("wrong"),
    thanks: $("thanks"),
    dialog: $("correction"),
    correctionForm: $("correction-form"),
    correctionText: $("correction-text"),
    correctionError: $("correction-error"),
    correctionCancel: $("correction-cancel"),
    correctionSend: $("correction-send"),
    history: $("history"),
    historyEmpty: $("history-empty"),
    clearHistory: $("clear-history"),
    badge: $("model-badge"),
    version: $("model-version"),
    accuracy: $("model-accuracy"),
    examples: $("model-examples"),
    created: $("model-created"),
    notice: $("notice"),
    auth: $("auth"),
    keyForm: $("key-form"),
    key: $("key"),
  };

  /** The prediction on screen, as /predict returned it, plus its text. */
  let current = null;

  // ---- talking to the API -------------------------------------------------------

  class ApiFailure extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  function apiKey() {
    try {
      return sessionStorage.getItem(API_KEY_KEY) || "";
    } catch {
      return "";
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const key = apiKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiFailure(0, "network", "The server cannot be reached. Is the daemon running?");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiFailure(
        response.status,
        error.code || "http_" + response.status,
        error.message || `The server answered ${response.status}.`,
        response.headers.get("Retry-After"),
      );
    }
    return data;
  }

  /** Shows what went wrong in words a visitor can act on. */
  function showFailure(failure) {
    if (failure.status === 401 || failure.status === 403) {
      showAuthNeeded(failure);
      return;
    }
    let message = failure.message;
    if (failure.status === 429) {
      const wait = failure.retryAfter ? ` Try again in ${failure.retryAfter} s.` : "";
      message = "Too many requests for now." + wait;
    }
    showNotice(message);
  }

  function showNotice(message) {
    els.notice.textContent = message;
    els.notice.hidden = false;
  }

  function hideNotice() {
    els.notice.hidden = true;
    els.notice.textContent = "";
  }

  function showAuthNeeded(failure) {
    els.auth.hidden = false;
    if (failure && failure.code === "invalid_api_key") {
      showNotice("That API key was not accepted: " + failure.message);
    }
    els.badge.textContent = "API key needed";
  }

  // ---- the model ------------------------------------------------------------------

  function percent(x, digits = 1) {
    return (x * 100).toFixed(digits) + "%";
  }

  async function loadModel() {
    try {
      const info = await api("GET", "/model_info");
      els.auth.hidden = true;
      const base = info.metrics && info.metrics.base_test;
      const held = info.metrics && info.metrics.feedback_holdout;
      els.version.textContent = info.version;
      els.accuracy.textContent = base ? percent(base.accuracy) : "not measured";
      if (base) els.accuracy.title = `On ${base.examples.toLocaleString()} held-out base test texts`;
      if (held && held.examples >= 20) {
        els.accuracy.title += `; ${percent(held.accuracy)} on ${held.examples} held-out corrections`;
      }
      els.examples.textContent = info.trained_on.examples.toLocaleString() + " texts";
      els.created.textContent = info.created ? new Date(info.created).toLocaleString() : "–";
      els.badge.textContent = `Model ${info.version}` + (base ? ` · ${percent(base.accuracy)} accurate` : "");
    } catch (failure) {
      els.badge.textContent = "Model unavailable";
      showFailure(failure);
    }
  }

  // ---- predicting -----------------------------------------------------------------

  async function predict() {
    const text = els.text.value;
    if (!text.trim()) {
      showNotice("Type a text to classify first.");
      els.text.focus();
      return;
    }
    hideNotice();
    els.predict.disabled = true;
    els.predict.textContent = "Predicting…";
    try {
      const prediction = await api("POST", "/predict?explain=true", { text });
      current = { ...prediction, text, corrected: null };
      showPrediction(current);
      remember(current);
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      els.result.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
    } catch (failure) {
      showFailure(failure);
    } finally {
      els.predict.disabled = false;
      els.predict.textContent = "Predict";
    }
  }

  function showPrediction(p) {
    els.result.hidden = false;
    els.label.textContent = p.label === "positive" ? "Positive" : "Negative";
    els.label.className = "label " + p.label;
    els.confidenceText.textContent = `${percent(p.confidence)} confident`;
    const value = Math.round(p.confidence * 1000) / 10;
    els.meter.setAttribute("aria-valuenow", String(value));
    els.meter.setAttribute("aria-valuetext", `${value}% confident it is ${p.label}`);
    els.meterFill.className = "meter-fill " + p.label;
    els.meterFill.style.width = value + "%";
    els.unsure.hidden = !p.low_confidence;
    els.resultMeta.textContent =
      `P(positive) ${percent(p.probabilities.positive)} · P(negative) ${percent(p.probabilities.negative)} · model ${p.model_version}`;
    const explanation = p.explanation || { towards_positive: [], towards_negative: [] };
    const largest = Math.max(
      1e-9,
      ...explanation.towards_positive.map((c) => Math.abs(c.contribution)),
      ...explanation.towards_negative.map((c) => Math.abs(c.contribution)),
    );
    fillNgrams(els.towardsPositive, explanation.towards_positive, largest, "positive");
    fillNgrams(els.towardsNegative, explanation.towards_negative, largest, "negative");
    els.negationHint.hidden = ![...explanation.towards_positive, ...explanation.towards_negative].some((c) =>
      c.ngram.includes("NOT_"),
    );
    els.thanks.textContent = p.corrected ? `Corrected to ${p.corrected}. Thank you!` : "";
    els.wrong.disabled = false;
    // The result card may have been hidden until now; this region always exists, so
    // screen readers hear the outcome.
    els.announce.textContent = `${els.label.textContent}, ${percent(p.confidence)} confident.` +
      (p.low_confidence ? " The model is unsure; queued for a person to label." : "");
  }

  function fillNgrams(list, contributions, largest, side) {
    list.replaceChildren();
    list.className = "ngram-list " + side;
    if (contributions.length === 0) {
      const li = document.createElement("li");
      li.className = "ngram-none";
      li.textContent = "None the model knows.";
      list.append(li);
      return;
    }
    for (const c of contributions) {
      const li = document.createElement("li");
      li.className = "ngram";
      const name = document.createElement("span");
      name.className = "ngram-name";
      // The model marks words after a negation ("not", "never") as NOT_word.
      name.textContent = c.ngram.replace(/NOT_/g, "¬");
      if (c.ngram.includes("NOT_")) name.title = "¬ marks a word after a negation such as “not”";
      const value = document.createElement("span");
      value.className = "ngram-value";
      value.textContent = (c.contribution >= 0 ? "+" : "") + c.contribution.toFixed(2);
      value.title = "Push on the log-odds of positive";
      const bar = document.createElement("span");
      bar.className = "ngram-bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = Math.max(4, (Math.abs(c.contribution) / largest) * 100) + "%";
      bar.append(fill);
      li.append(name, value, bar);
      list.append(li);
    }
  }

  // ---- corrections ----------------------------------------------------------------

  function openCorrection() {
    if (!current) return;
    els.correctionText.textContent = `“${current.text}” was predicted ${current.label}.`;
    els.correctionError.textContent = "";
    const other = current.label === "positive" ? "negative" : "positive";
    for (const radio of els.correctionForm.elements.correct) {
      radio.checked = radio.value === other;
    }
    els.dialog.showModal();
    els.correctionForm.querySelector("input:checked").focus();
  }

  async function sendCorrection(event) {
    event.preventDefault();
    const chosen = els.correctionForm.elements.correct.value;
    if (!chosen) {
      els.correctionError.textContent = "Choose the right label.";
      return;
    }
    els.correctionSend.disabled = true;
    try {
      const stored = await api("POST", "/feedback", {
        prediction_id: current.prediction_id,
        correct_label: chosen,
      });
      current.corrected = chosen;
      current.feedback_id = stored.id;
      remember(current);
      els.dialog.close();
      els.thanks.textContent =
        `Thank you! Stored as correction #${stored.id} (${stored.status}); it will count in the next retrain.`;
      els.wrong.focus();
    } catch (failure) {
      if (failure.status === 401 || failure.status === 403) {
        els.dialog.close();
        showFailure(failure);
      } else {
        els.correctionError.textContent = failure.message;
      }
    } finally {
      els.correctionSend.disabled = false;
    }
  }

  // ---- history (this browser only) --------------------------------------------------

  function loadHistory() {
    try {
      const items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  function saveHistory(items) {
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_LIMIT)));
    } catch {
      // Storage full or disabled: the history simply is not kept.
    }
  }

  function remember(p) {
    const entry = {
      id: p.prediction_id,
      text: p.text,
      label: p.label,
      confidence: p.confidence,
      version: p.model_version,
      corrected: p.corrected,
      at: Date.now(),
    };
    const items = loadHistory().filter((item) => item.id !== entry.id);
    items.unshift(entry);
    saveHistory(items);
    renderHistory();
  }

  function renderHistory() {
    const items = loadHistory();
    els.history.replaceChildren();
    els.historyEmpty.hidden = items.length > 0;
    els.clearHistory.hidden = items.length === 0;
    for (const item of items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.title = "Put this text back in the box";
      const text = document.createElement("span");
      text.className = "h-text";
      text.textContent = item.text;
      const label = document.createElement("span");
      label.className = "h-label " + item.label;
      label.textContent = `${item.label} ${percent(item.confidence, 0)}`;
      const meta = document.createElement("span");
      meta.className = "h-meta";
      const when = new Date(item.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      meta.textContent = `${when} · ${item.version}` + (item.corrected ? ` · corrected to ${item.corrected}` : "");
      button.append(text, label, meta);
      button.addEventListener("click", () => {
        els.text.value = item.text;
        els.text.focus();
      });
      li.append(button);
      els.history.append(li);
    }
  }

  // ---- wiring -----------------------------------------------------------------------

  function renderSamples() {
    for (const sample of SAMPLES) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chip";
      button.textContent = sample;
      button.addEventListener("click", () => {
        els.text.value = sample;
        predict();
      });
      li.append(button);
      els.samples.append(li);
    }
  }

  els.predictForm.addEventListener("submit", (event) => {
    event.preventDefault();
    predict();
  });
  els.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      predict();
    }
  });
  els.clear.addEventListener("click", () => {
    els.text.value = "";
    els.text.focus();
  });
  els.wrong.addEventListener("click", openCorrection);
  els.correctionForm.addEventListener("submit", sendCorrection);
  els.correctionCancel.addEventListener("click", () => els.dialog.close());
  els.dialog.addEventListener("close", () => {
    if (els.wrong.isConnected && !els.result.hidden) els.wrong.focus();
  });
  els.clearHistory.addEventListener("click", () => {
    saveHistory([]);
    renderHistory();
  });
  els.keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    try {
      sessionStorage.setItem(API_KEY_KEY, els.key.value.trim());
    } catch {
      showNotice("This browser does not allow storing the key for this tab.");
    }
    els.key.value = "";
    hideNotice();
    loadModel();
  });

  renderSamples();
  renderHistory();
  loadModel();
})();
