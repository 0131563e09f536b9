/*!
 * 北斗市「困りごと相談の案内」チャット（ホームページ用の部品）
 * Hokuto City consultation-referral chat widget. Plain JavaScript, no build step, no dependencies.
 *
 * Embed with one tag (any page, any CMS):
 *   <script src="https://BOT-HOST/widget/soudan-widget.js" defer
 *           data-endpoint="https://BOT-HOST/api/chat"
 *           data-title="北斗市 困りごと相談の案内"></script>
 *
 * Optional: data-stylesheet (URL of soudan-widget.css; default: next to this file).
 * A relative data-endpoint is resolved against this script's URL, not the page's.
 *
 * Rules this file keeps:
 *  - Everything a resident or the bot wrote is put on the page with textContent / text nodes,
 *    never innerHTML. Links are built only from validated tel: URIs.
 *  - No phone number and no text of the service is written here: when it first opens, the widget
 *    fetches (GET on the endpoint) the texts for a message that could not be sent, the number to
 *    call with them and the longest message accepted; the answers carry the rest. Only a
 *    last-resort line (COPY.unreachable) is kept for when even that could not be fetched.
 *  - The UI lives in an open shadow root, so the CMS's CSS cannot break it and ours cannot leak.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='soudan-widget']");
    return all[all.length - 1] || null;
  })();
  if (!SCRIPT || window.__soudanWidgetLoaded) { return; }
  window.__soudanWidgetLoaded = true;

  var data = SCRIPT.dataset || {};
  var SCRIPT_URL = SCRIPT.src || location.href;
  var ENDPOINT = resolveUrl(data.endpoint || "/api/chat");
  var STYLESHEET = resolveUrl(data.stylesheet || "soudan-widget.css");
  var TITLE = (data.title || "困りごと相談の案内").trim();
  var STORE_KEY = "soudan-widget:v1:" + ENDPOINT;
  var SIZE_KEY = "soudan-widget:text-size";
  var MAX_HISTORY = 200;
  var TIMEOUT_MS = 25000;
  var CONFIG_TIMEOUT_MS = 5000;
  var SIZES = [["m", "標準"], ["l", "大"], ["xl", "特大"]];

  var COPY = {
    launcher: "相談する",
    close: "閉じる",
    emergency: "緊急のとき",
    restart: "最初から",
    restartDone: "会話を消して、最初からにしました。",
    restartAsk: function (ref) {
      return "受付番号 " + ref + " は控えましたか？最初からにすると、この画面の会話は消えます。";
    },
    restartYes: "はい、最初からにします",
    restartNo: "いいえ、このまま続けます",
    sizeLabel: ["文字", "の大きさ"],
    logLabel: "会話",
    inputLabel: "困っていることを書いてください",
    placeholder: "例：母の物忘れが心配です",
    send: "送信",
    hint: "Enterで送信、Shift＋Enterで改行",
    note: "名前を書かなくても使えます。緊急の窓口ではありません。",
    you: "あなた：",
    bot: "案内：",
    typing: "お返事を準備しています",
    sending: "送信中…",
    notSent: "まだ送れていません",
    keptText: "書いた文は入力欄に戻してあります。もう一度送ってください。",
    keptToFix: "書いた文は入力欄に戻してあります。直してから、もう一度送ってください。",
    quickLabel: "選んで答える",
    retry: "もう一度送る",
    callPrefix: "電話：",
    unreachable: "いまつながりません。時間をおいて、もう一度送ってください。",
    address: "住所",
    phone: "電話",
    hours: "受付時間",
    call: function (name, number) { return (name ? name + "に" : "") + "電話する " + number; }
  };

  function resolveUrl(value) {
    try { return new URL(value, SCRIPT_URL).href; } catch (e) { return value; }
  }

  /* ---------- small DOM helpers (text only, never HTML) ---------- */

  function h(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === undefined || value === null || value === false) { return; }
        if (key === "className") { node.className = value; }
        else if (key === "text") { node.textContent = value; }
        else if (key === "hidden") { node.hidden = true; }
        else if (key.indexOf("on") === 0) { node.addEventListener(key.slice(2), value); }
        else { node.setAttribute(key, value === true ? "" : String(value)); }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    close: "M6 6l12 12M18 6L6 18",
    alert: "M12 3l10 18H2L12 3zm0 6v5m0 3v.5"
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "sw-icon sw-icon--" + name);
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function str(value) { return typeof value === "string" ? value : ""; }

  /** A tel: URI we are willing to put in href (digits, optional leading + or %23). */
  function safeTel(uri) {
    return typeof uri === "string" && /^tel:(\+?[0-9]{2,15}|%23[0-9]{3,5})$/.test(uri) ? uri : "";
  }

  function telFromNumber(number) {
    return safeTel("tel:" + str(number).replace(/[-\s]/g, "").replace(/^#/, "%23"));
  }

  function telLink(number, tel, label, className) {
    var href = safeTel(tel) || telFromNumber(number);
    if (!href) { return document.createTextNode(str(number)); }
    return h("a", { className: className || "sw-tel", href: href, "aria-label": label || null },
             [icon("phone"), h("span", { text: str(number) })]);
  }

  /**
   * Text with phone numbers turned into tel: links: 0138-74-2500, 0120-0-78310, 0570-078374,
   * #8000, and the short numbers 110 / 119 / 189 (and 118, 171, 177, 188) only when they stand
   * alone (not inside a longer number, a date, a 受付番号 or an amount such as 110円).
   */
  var PHONE_IN_TEXT = /0\d{1,4}-\d{1,4}-\d{3,5}|0\d{2,4}-\d{5,6}|#\d{4}|1(?:1[089]|7[17]|8[89])/g;
  var NOT_BEFORE = /[0-9０-９#＃+＋\-‐－−.,:\/]/;
  var NOT_AFTER = /[0-9０-９\-‐－−.,:\/]/;
  var NOT_AFTER_SHORT = /[円人件歳才日月年時分秒回個号%％万千百倍名台本枚冊階条度点位kKmMgG]/;

  function linkedText(text, skipNumber) {
    text = str(text);
    var out = document.createDocumentFragment();
    var last = 0;
    var match;
    PHONE_IN_TEXT.lastIndex = 0;
    while ((match = PHONE_IN_TEXT.exec(text)) !== null) {
      var number = match[0];
      var before = text.charAt(match.index - 1);
      var after = text.charAt(match.index + number.length);
      if ((before && NOT_BEFORE.test(before)) || (after && NOT_AFTER.test(after))) { continue; }
      if (number.length === 3 && after && NOT_AFTER_SHORT.test(after)) { continue; }
      if (skipNumber && number === skipNumber) { continue; } // it has its own call button
      out.appendChild(document.createTextNode(text.slice(last, match.index)));
      out.appendChild(telLink(number, "", null, "sw-tel sw-tel--inline"));
      last = match.index + number.length;
    }
    out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  }

  /** The 受付番号 given in a bot text (「受付番号は「482-9135」です」), or "". */
  var REFERENCE_IN_TEXT = /受付番号(?:は)?「([0-9]{3}-[0-9]{4})」/;

  function referenceIn(text) {
    var match = REFERENCE_IN_TEXT.exec(str(text));
    return match ? match[1] : "";
  }

  /* ---------- storage (sessionStorage for the talk, localStorage for the text size) ---------- */

  function storage(kind) {
    try {
      var s = window[kind];
      var probe = "soudan-widget:probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) { return null; }
  }
  var session = storage("sessionStorage");
  var local = storage("localStorage");

  function newSender() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "w" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadState() {
    var state = null;
    try { state = JSON.parse(session && session.getItem(STORE_KEY)); } catch (e) { state = null; }
    if (!state || typeof state !== "object" || !/^[A-Za-z0-9_-]{8,64}$/.test(str(state.sender)) ||
        !Array.isArray(state.messages)) {
      state = { sender: newSender(), messages: [], open: false };
    }
    return state;
  }

  function saveState() {
    if (!session) { return; }
    state.messages = state.messages.slice(-MAX_HISTORY);
    try { session.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* full or blocked: keep going */ }
  }

  var state = loadState();
  var textSize = (local && local.getItem(SIZE_KEY)) || "m";

  /* ---------- building the widget ---------- */

  var host, root, launcher, panel, log, textarea, sendButton, typing, sizeButtons = {};
  var queue = [];       // messages waiting for their turn; queue[0] is on its way when `inFlight`
  var inFlight = false;
  var urgentPending = 0; // 緊急のとき: sent at once, beside the queue
  var composing = false;

  function build() {
    host = h("div", { id: "soudan-widget", "data-soudan-widget": "" });
    host.style.display = "none"; // shown once our stylesheet has loaded (CSSOM: allowed by CSP)
    var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var link = h("link", { rel: "stylesheet", href: STYLESHEET });
    var reveal = function () { host.style.removeProperty("display"); };
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    setTimeout(reveal, 4000);

    launcher = h("button", { type: "button", className: "sw-launcher", "aria-haspopup": "dialog",
                             "aria-expanded": "false", "aria-controls": "sw-panel", onclick: openPanel },
                 [icon("chat"), h("span", { text: COPY.launcher })]);

    var titleId = "sw-title";
    var closeButton = h("button", { type: "button", className: "sw-close", onclick: function () { closePanel(true); } },
                        [icon("close"), h("span", { className: "sw-close__text", text: COPY.close })]);

    var sizeGroup = h("div", { className: "sw-size", role: "group", "aria-labelledby": "sw-size-label" },
                      [h("span", { id: "sw-size-label", className: "sw-size__label" },
                         [COPY.sizeLabel[0], h("span", { className: "sw-size__more", text: COPY.sizeLabel[1] })])]);
    SIZES.forEach(function (pair) {
      var button = h("button", { type: "button", className: "sw-size__btn", "aria-pressed": "false",
                                 "data-size": pair[0], text: pair[1],
                                 onclick: function () { setTextSize(pair[0]); } });
      sizeButtons[pair[0]] = button;
      sizeGroup.appendChild(button);
    });

    log = h("div", { className: "sw-log", id: "sw-log", role: "log", "aria-live": "polite",
                     "aria-label": COPY.logLabel, tabindex: "0" });
    typing = h("div", { className: "sw-msg sw-msg--bot sw-typing", hidden: true },
               [h("span", { className: "sw-dots", "aria-hidden": "true" }, [h("span"), h("span"), h("span")]),
                h("span", { className: "sw-vh", text: COPY.typing })]);

    textarea = h("textarea", { id: "sw-input", className: "sw-input", rows: "2",
                               placeholder: COPY.placeholder, "aria-describedby": "sw-hint", autocomplete: "off",
                               enterkeyhint: "send" });
    sendButton = h("button", { type: "submit", className: "sw-send" }, [h("span", { text: COPY.send })]);
    var form = h("form", { className: "sw-form", novalidate: true, onsubmit: function (event) {
      event.preventDefault();
      submitTyped();
    } }, [
      h("label", { "for": "sw-input", className: "sw-label", text: COPY.inputLabel }),
      h("div", { className: "sw-form__row" }, [textarea, sendButton])
    ]);

    panel = h("div", { id: "sw-panel", className: "sw-panel", role: "dialog", "aria-labelledby": titleId,
                       "aria-describedby": "sw-note", hidden: true }, [
      h("div", { className: "sw-header" }, [
        h("h2", { id: titleId, className: "sw-title", text: TITLE }),
        closeButton
      ]),
      h("div", { className: "sw-toolbar" }, [
        h("button", { type: "button", className: "sw-emergency", onclick: showEmergency },
          [icon("alert"), h("span", { text: COPY.emergency })]),
        sizeGroup
      ]),
      h("p", { id: "sw-note", className: "sw-note", text: COPY.note }),
      log,
      form,
      h("div", { className: "sw-footer" }, [
        h("p", { id: "sw-hint", className: "sw-hint", text: COPY.hint }),
        h("button", { type: "button", className: "sw-restart", onclick: restart }, [h("span", { text: COPY.restart })])
      ])
    ]);

    root = h("aside", { className: "sw", "aria-label": TITLE, lang: "ja" }, [launcher, panel]);
    shadow.appendChild(link);
    shadow.appendChild(root);
    document.body.appendChild(host);

    textarea.addEventListener("compositionstart", function () { composing = true; });
    textarea.addEventListener("compositionend", function () { composing = false; });
    textarea.addEventListener("keydown", onInputKeydown);
    textarea.addEventListener("input", autoGrow);
    panel.addEventListener("keydown", onPanelKeydown);

    applyTextSize();
    renderHistory();
    if (state.open) { openPanel(null, { restore: true }); }
    // A link on the host page (the demo page's skip link) can open the chat:
    // <a href="#soudan-widget" data-soudan-open>. Works with the site's strict CSP (no inline script).
    document.addEventListener("click", onPageOpenLink);
  }

  function onPageOpenLink(event) {
    var target = event.target && event.target.closest ? event.target.closest("[data-soudan-open]") : null;
    if (!target) { return; }
    event.preventDefault();
    if (panel.hidden) { openPanel(); } else { textarea.focus(); }
  }

  /* ---------- open / close / keyboard ---------- */

  function openPanel(event, options) {
    var restore = options && options.restore;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("sw--open");
    if (!state.open) { state.open = true; saveState(); }
    scrollToEnd();
    if (!restore) { textarea.focus(); }
    loadConfig();
    if (!state.messages.length && !busy()) { send("/greet", null); }
  }

  function closePanel(returnFocus) {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("sw--open");
    state.open = false;
    saveState();
    if (returnFocus) { launcher.focus(); }
  }

  function isImeEvent(event) {
    return composing || event.isComposing || event.keyCode === 229;
  }

  function onInputKeydown(event) {
    if (event.key !== "Enter" || isImeEvent(event)) { return; } // Enter that confirms kana->kanji
    if (event.shiftKey) { return; }                                // Shift+Enter: new line
    event.preventDefault();
    submitTyped();
  }

  function onPanelKeydown(event) {
    if (event.key === "Escape" && !isImeEvent(event)) {
      event.preventDefault();
      closePanel(true);
      return;
    }
    // On a phone the panel covers the page: keep Tab inside it.
    if (event.key === "Tab" && window.matchMedia && window.matchMedia("(max-width: 480px)").matches) {
      var items = Array.prototype.filter.call(
        panel.querySelectorAll("button, a[href], textarea, [tabindex='0']"),
        function (el) { return !el.disabled && el.getClientRects().length; });
      if (!items.length) { return; }
      var active = root.getRootNode().activeElement;
      if (event.shiftKey && active === items[0]) { event.preventDefault(); items[items.length - 1].focus(); }
      else if (!event.shiftKey && active === items[items.length - 1]) { event.preventDefault(); items[0].focus(); }
    }
  }

  function autoGrow() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, 160) + "px";
  }

  /* ---------- text size ---------- */

  function setTextSize(size) {
    textSize = size;
    if (local) { try { local.setItem(SIZE_KEY, size); } catch (e) { /* ignore */ } }
    applyTextSize();
  }

  function applyTextSize() {
    if (!sizeButtons[textSize]) { textSize = "m"; }
    root.setAttribute("data-size", textSize);
    Object.keys(sizeButtons).forEach(function (key) {
      sizeButtons[key].setAttribute("aria-pressed", key === textSize ? "true" : "false");
    });
  }

  /* ---------- sending ---------- */

  function busy() { return inFlight || queue.length > 0 || urgentPending > 0; }

  function submitTyped() {
    var text = textarea.value;
    if (!text.trim()) { return; }
    textarea.value = "";
    autoGrow();
    send(text, text, { typed: true });
  }

  function showEmergency() {
    send("/emergency_info", COPY.emergency, { urgent: true });
  }

  /**
   * Send `message` to the API. `shown` is what appears as the resident's bubble (the button's
   * title for a payload; null for the silent /greet). Messages go one at a time and in order: one
   * written while an answer is awaited is shown at once as 送信中… and sent when that answer has
   * arrived. Urgent sends (緊急のとき) go at once, beside the queue.
   */
  function send(message, shown, options) {
    options = options || {};
    var job = { message: message, typed: !!options.typed, node: null,
                entry: shown ? { who: "user", text: shown } : null };
    removeQuickReplies();
    removeNodes(".sw-confirm");
    if (job.typed) { removeNodes(".sw-error[data-kept]"); } // its text is being sent again now
    if (job.entry) {
      job.node = renderUser(job.entry);
      log.appendChild(job.node);
      setStatus(job, COPY.sending);
    }
    if (options.urgent) { sendUrgent(job); } else { queue.push(job); pump(); }
    updateBusy();
    scrollToEnd();
  }

  function pump() {
    if (inFlight || !queue.length) { return; }
    var job = queue[0];
    inFlight = true;
    setStatus(job, COPY.sending);
    updateBusy();
    post(job.message).then(function (result) {
      inFlight = false;
      if (answered(result)) {
        queue.shift();
        deliver(job, result.body);
        pump();
      } else {
        failed(result, queue.splice(0, queue.length)); // this message and the ones waiting behind it
      }
      updateBusy();
    });
  }

  function sendUrgent(job) {
    urgentPending += 1;
    setStatus(job, COPY.sending);
    updateBusy();
    post(job.message).then(function (result) {
      urgentPending -= 1;
      if (answered(result)) {
        deliver(job, result.body);
      } else {
        setStatus(job, COPY.notSent);
        showError(result, function () { sendUrgent(job); }, false);
      }
      updateBusy();
    });
  }

  function answered(result) {
    return result.status === 200 && Array.isArray(result.body);
  }

  /** Show an answer right after its own message (before messages still waiting their turn). */
  function deliver(job, body) {
    setStatus(job, null);
    if (job.entry) { state.messages.push(job.entry); }
    var before = job.node && job.node.parentNode === log ? job.node.nextSibling : firstWaitingNode();
    var first = null;
    body.forEach(function (raw) {
      var entry = botEntry(raw);
      if (!entry) { return; }
      state.messages.push(entry);
      state.reference = referenceIn(entry.text) || state.reference;
      var node = renderBot(entry, { live: true });
      log.insertBefore(node, before);
      first = first || node;
    });
    if (!queue.length && !inFlight) { renderQuickReplies(body); }
    saveState();
    scrollToMessage(first);
  }

  function firstWaitingNode() {
    for (var i = 0; i < queue.length; i++) {
      if (queue[i].node && queue[i].node.parentNode === log) { return queue[i].node; }
    }
    return typing.parentNode === log ? typing : null;
  }

  /**
   * Sending failed: nothing the resident wrote is lost. Typed text goes back into the input box
   * (before anything typed since); a button's choice keeps its bubble and is sent again on retry.
   */
  function failed(result, jobs) {
    var typed = [];
    var again = [];
    jobs.forEach(function (job) {
      if (job.typed) {
        typed.push(job.entry.text);
        if (job.node && job.node.parentNode) { job.node.parentNode.removeChild(job.node); }
      } else {
        setStatus(job, COPY.notSent);
        again.push(job);
      }
    });
    if (typed.length) {
      textarea.value = typed.join("\n") + (textarea.value ? "\n" + textarea.value : "");
      autoGrow();
    }
    showError(result, function () {
      again.forEach(function (job) { queue.push(job); });
      if (typed.length) { submitTyped(); } else { pump(); }
      updateBusy();
    }, typed.length > 0 && !again.length);
  }

  function setStatus(job, text) {
    if (!job.node) { return; }
    var status = job.node.querySelector(".sw-status");
    if (!text) {
      if (status) { status.parentNode.removeChild(status); }
      job.node.classList.remove("sw-msg--sending");
      return;
    }
    if (!status) {
      status = h("span", { className: "sw-status" });
      job.node.appendChild(status);
    }
    status.textContent = text;
    job.node.classList.add("sw-msg--sending");
  }

  function updateBusy() {
    var waiting = inFlight || urgentPending > 0;
    typing.hidden = !waiting;
    if (waiting) { log.appendChild(typing); }
    log.setAttribute("aria-busy", busy() ? "true" : "false");
  }

  function removeNodes(selector) {
    Array.prototype.forEach.call(log.querySelectorAll(selector), function (node) { node.parentNode.removeChild(node); });
  }

  function post(message) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) { controller.abort(); } }, TIMEOUT_MS);
    return fetch(ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).catch(function () {
      return { status: 0, body: null };
    }).then(function (result) {
      clearTimeout(timer);
      // A message that was not answered is explained with the server's texts (loadConfig).
      return result.status === 200 ? result : loadConfig().then(function () { return result; });
    });
  }

  /**
   * The server's texts for a message that could not be sent, its number to call and the longest
   * message (GET on the endpoint), fetched once; tried again at the next failure if it failed.
   */
  var config = null;
  var configLoading = null;

  function loadConfig() {
    if (config) { return Promise.resolve(config); }
    if (!configLoading) {
      var controller = window.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () { if (controller) { controller.abort(); } }, CONFIG_TIMEOUT_MS);
      configLoading = fetch(ENDPOINT, { method: "GET", credentials: "omit", referrerPolicy: "no-referrer",
                                        cache: "no-store", signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; })
        .then(function (body) {
          clearTimeout(timer);
          configLoading = null;
          config = checkedConfig(body);
          if (config && config.maxChars) { textarea.setAttribute("maxlength", String(config.maxChars)); }
          return config;
        });
    }
    return configLoading;
  }

  function checkedConfig(body) {
    if (!body || typeof body !== "object" || !body.texts || typeof body.texts !== "object") { return null; }
    var call = body.call && typeof body.call === "object" ? body.call : {};
    return {
      maxChars: typeof body.max_chars === "number" && body.max_chars > 0 ? Math.floor(body.max_chars) : 0,
      name: str(call.name),
      phone: safeTel(call.tel) ? str(call.phone) : "",
      tel: safeTel(call.tel),
      texts: { offline: str(body.texts.offline), unavailable: str(body.texts.unavailable), busy: str(body.texts.busy) }
    };
  }

  /** Keep only the fields we render, as plain data (what goes to sessionStorage). */
  function botEntry(raw) {
    if (!raw || typeof raw !== "object") { return null; }
    var entry = { who: "bot", text: str(raw.text) };
    if (raw.custom && typeof raw.custom === "object") { entry.custom = raw.custom; }
    if (Array.isArray(raw.buttons)) {
      entry.buttons = raw.buttons.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string" && b.title && b.payload;
      }).map(function (b) { return { title: b.title, payload: b.payload }; });
    }
    return entry.text || entry.custom || (entry.buttons && entry.buttons.length) ? entry : null;
  }

  /* ---------- errors ---------- */

  function showError(result, retry, keptText) {
    var status = result.status;
    var body = result.body && typeof result.body === "object" ? result.body : {};
    var error = body.error && typeof body.error === "object" ? body.error : {};
    var message = str(error.message);
    var phone = str(body.phone);
    var tel = safeTel(body.tel);
    var canRetry = status === 0 || status === 429 || status >= 500;
    var texts = config ? config.texts : {};
    if (!message) {
      message = (status === 0 ? texts.offline : status === 429 ? texts.busy : texts.unavailable) || COPY.unreachable;
    }
    if (canRetry && !(phone && tel) && config && config.tel && message.indexOf(config.phone) !== -1) {
      phone = config.phone;
      tel = config.tel;
    }
    if (keptText) { message += "\n" + (canRetry ? COPY.keptText : COPY.keptToFix); }
    var callable = !!(phone && tel);
    var box = h("div", { className: "sw-msg sw-msg--bot sw-error", "data-status": String(status),
                         "data-kept": keptText ? "" : null }, [
      h("span", { className: "sw-vh", text: COPY.bot }),
      // The number with a call button below stays plain in the text (one link per number).
      h("p", { className: "sw-text" }, [linkedText(message, callable ? phone : "")])
    ]);
    var actions = h("div", { className: "sw-error__actions" });
    if (callable) {
      actions.appendChild(telLink(phone, tel, COPY.call(config && config.phone === phone ? config.name : "", phone),
                                  "sw-call sw-call--error"));
    }
    if (canRetry) {
      actions.appendChild(h("button", { type: "button", className: "sw-retry", onclick: function () {
        box.parentNode.removeChild(box);
        textarea.focus();
        retry();
      } }, [h("span", { text: COPY.retry })]));
    }
    if (actions.childNodes.length) { box.appendChild(actions); }
    log.appendChild(box);
    scrollToMessage(box);
  }

  /* ---------- rendering ---------- */

  function renderUser(entry) {
    return h("div", { className: "sw-msg sw-msg--user" }, [
      h("span", { className: "sw-vh", text: COPY.you }),
      h("p", { className: "sw-text", text: entry.text })
    ]);
  }

  function renderBot(entry, options) {
    var custom = entry.custom || {};
    var node = null;
    if (custom.type === "agency_card" && custom.agency && typeof custom.agency === "object") {
      node = agencyCard(custom);
    } else if ((custom.type === "crisis" || custom.type === "hotlines") && Array.isArray(custom.lines)) {
      node = lineList(custom, custom.type === "crisis", options && options.live);
    }
    if (!node) {
      node = h("div", { className: "sw-msg sw-msg--bot" }, [h("p", { className: "sw-text" }, [linkedText(entry.text)])]);
    }
    node.insertBefore(h("span", { className: "sw-vh", text: COPY.bot }), node.firstChild);
    return node;
  }

  function agencyCard(custom) {
    var a = custom.agency;
    var facts = h("dl", { className: "sw-card__facts" }, [
      str(a.address) && h("div", null, [h("dt", { text: COPY.address }), h("dd", { text: str(a.address) })]),
      str(a.phone) && h("div", null, [h("dt", { text: COPY.phone }),
                                       h("dd", null, [telLink(a.phone, a.tel, COPY.call(str(a.name), str(a.phone)))])]),
      str(a.hours_text) && h("div", null, [h("dt", { text: COPY.hours }), h("dd", null, [linkedText(a.hours_text)])])
    ]);
    return h("div", { className: "sw-msg sw-msg--bot sw-msg--card" }, [
      str(custom.intro) && h("p", { className: "sw-text" }, [linkedText(custom.intro)]),
      h("div", { className: "sw-card", "data-agency": str(a.slug) }, [
        h("h3", { className: "sw-card__name", text: str(a.name) }),
        str(a.helps_with) && h("p", { className: "sw-card__desc" }, [linkedText(a.helps_with)]),
        facts
      ])
    ]);
  }

  function lineList(custom, isCrisis, live) {
    var list = h("ul", { className: "sw-lines" });
    custom.lines.forEach(function (line) {
      if (!line || typeof line !== "object") { return; }
      var number = str(line.number);
      list.appendChild(h("li", { className: "sw-line" + (line.always_open ? " sw-line--always" : "") }, [
        h("span", { className: "sw-line__name", text: str(line.name) }),
        number && telLink(number, line.tel, COPY.call(str(line.name), number), "sw-call"),
        str(line.hours) && h("span", { className: "sw-line__hours" }, [linkedText(line.hours, number)]),
        str(line.note) && h("span", { className: "sw-line__note" }, [linkedText(line.note, number)])
      ]));
    });
    return h("div", { className: "sw-msg sw-msg--bot " + (isCrisis ? "sw-crisis" : "sw-hotlines"),
                      role: isCrisis && live ? "alert" : null }, [
      h("p", { className: "sw-lines__heading" }, [isCrisis ? icon("alert") : null,
                                                  h("strong", null, [linkedText(custom.heading)])]),
      list
    ]);
  }

  /** Buttons of the latest answer only: older choices disappear once the resident answers. */
  function renderQuickReplies(messages) {
    var buttons = [];
    messages.forEach(function (m) {
      if (m && Array.isArray(m.buttons)) {
        m.buttons.forEach(function (b) {
          if (b && typeof b.title === "string" && typeof b.payload === "string" && b.title && b.payload) {
            buttons.push(b);
          }
        });
      }
    });
    if (!buttons.length) { return; }
    var group = h("div", { className: "sw-quick", role: "group", "aria-label": COPY.quickLabel });
    buttons.forEach(function (b) {
      group.appendChild(h("button", { type: "button", className: "sw-quick__btn", text: b.title,
                                      "data-payload": b.payload, onclick: function () {
        textarea.focus();
        send(b.payload, b.title);
      } }));
    });
    log.appendChild(group);
  }

  function removeQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".sw-quick"), function (g) { g.parentNode.removeChild(g); });
  }

  function renderHistory() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    var tail = [];
    state.messages.forEach(function (entry) {
      if (!entry || typeof entry !== "object") { return; }
      if (entry.who === "user") {
        log.appendChild(renderUser({ text: str(entry.text) }));
        tail = [];
      } else if (entry.who === "bot") {
        log.appendChild(renderBot(entry, { live: false }));
        tail.push(entry);
      }
    });
    renderQuickReplies(tail);
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function scrollToMessage(node) {
    if (!node) { scrollToEnd(); return; }
    var target = node.offsetTop - 8;
    log.scrollTop = Math.min(target, log.scrollHeight - log.clientHeight);
  }

  /* ---------- start over ---------- */

  /** The latest 受付番号 given in this conversation, or "". */
  function currentReference() {
    for (var i = state.messages.length - 1; i >= 0; i--) {
      var entry = state.messages[i];
      var ref = entry && entry.who === "bot" ? referenceIn(entry.text) : "";
      if (ref) { return ref; }
    }
    return /^[0-9]{3}-[0-9]{4}$/.test(str(state.reference)) ? state.reference : "";
  }

  /** 最初から: with a 受付番号 in this conversation, ask first (it would be gone from the screen). */
  function restart() {
    if (busy()) { return; }
    var ref = currentReference();
    if (!ref) { startOver(); return; }
    var open = log.querySelector(".sw-confirm");
    if (open) { open.parentNode.removeChild(open); }
    var no;
    var box = h("div", { className: "sw-msg sw-msg--bot sw-confirm", role: "group",
                         "aria-labelledby": "sw-confirm-text" }, [
      h("p", { id: "sw-confirm-text", className: "sw-text", text: COPY.restartAsk(ref) }),
      h("div", { className: "sw-confirm__actions" }, [
        h("button", { type: "button", className: "sw-confirm__yes", text: COPY.restartYes, onclick: function () {
          box.parentNode.removeChild(box);
          startOver();
        } }),
        no = h("button", { type: "button", className: "sw-confirm__no", text: COPY.restartNo, onclick: function () {
          box.parentNode.removeChild(box);
          textarea.focus();
        } })
      ])
    ]);
    log.appendChild(box);
    scrollToMessage(box);
    no.focus(); // the safe answer first: the conversation stays
  }

  function startOver() {
    if (busy()) { return; }
    state = { sender: newSender(), messages: [], open: true };
    saveState();
    renderHistory();
    var done = h("p", { className: "sw-system", text: COPY.restartDone });
    log.appendChild(done);
    textarea.value = "";
    autoGrow();
    textarea.focus();
    send("/greet", null);
  }

  function start() {
    if (!document.body) { return; }
    build();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
