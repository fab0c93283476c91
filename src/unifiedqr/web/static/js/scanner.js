// The venue scanner. Built for a queue at a door:
// - keyboard-wedge mode: the scan field has focus on load and after every scan, so a USB scanner
//   (types the code, then Enter) needs no click; any printable key typed elsewhere goes there too;
// - each scan answers at once (what the code shows locally), then with the server's answer;
// - scans the network cannot take go to the offline queue (queue.js) and are uploaded with their
//   idempotency keys through POST /api/v1/scan-batches as soon as the network is back;
// - the JSON API is called with a short-lived bearer token from POST /session/api-token.
// window.scanner exposes the state for the browser tests.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const root = $("scanner");
  const venueId = root.dataset.venue;
  const offsetMs = Number(root.dataset.utcOffset) * 60000;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const field = $("scan");
  const codes = window.uqrCodes;
  const queue = window.uqrQueue;
  const entries = new Map();
  let seq = 0;
  let shown = 0;
  let token = null;
  let tokenExpires = 0;
  const state = (window.scanner = {
    ready: false, mode: "auto", pending: 0, uploads: 0, sessionLost: false, scans: [], counts: { in: 0, out: 0 },
  });

  class SessionLost extends Error {}

  // -- identity of this device and of each scan ------------------------------------------------------
  function random(n) {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => alphabet[b % 36]).join("");
  }
  const deviceId = localStorage.getItem("uqr-device-id") || ("web-" + random(12));
  localStorage.setItem("uqr-device-id", deviceId);
  const newKey = () => `${deviceId}.${Date.now().toString(36)}.${(seq + 1).toString(36)}.${random(4)}`;

  const localTime = (iso) => new Date(new Date(iso).getTime() + offsetMs).toISOString().slice(11, 16);
  const localDay = () => new Date(Date.now() + offsetMs).toISOString().slice(0, 10);
  const countsKey = () => `uqr-counts:${venueId}:${localDay()}`;
  Object.assign(state.counts, JSON.parse(localStorage.getItem(countsKey()) || "{}"));

  // -- the big answer and the history ----------------------------------------------------------------
  const WORDS = {
    in: ["VÀO", "IN", "✓"], out: ["RA", "OUT", "↩"], duplicate: ["ĐÃ QUÉT", "ALREADY SCANNED", "="],
    sending: ["ĐANG GỬI", "SENDING", "…"], saved: ["ĐÃ LƯU", "SAVED", "⇣"], accepted: ["ĐÃ NHẬN", "ACCEPTED", "✓"],
    rejected: ["KHÔNG HỢP LỆ", "NOT VALID", "✕"],
  };
  const PROOF = {
    valid: "Chữ ký hợp lệ · Signature valid", unsigned: "Chưa ký · Unsigned", none: "Không có chữ ký · No signature",
    not_checked: "Chưa kiểm tra chữ ký · Signature not checked", unknown_key: "Khóa lạ · Unknown key",
    bad_signature: "Chữ ký sai · Bad signature", code_revoked: "Mã đã thu hồi · Code withdrawn",
  };

  function render(entry) {
    entry.li.dataset.status = entry.status;
    entry.li.dataset.direction = entry.direction || "";
    const [vi, en] = WORDS[entry.word];
    entry.li.querySelector(".s").textContent = `${vi} · ${en}`;
    entry.li.querySelector(".s").className = `s pill ${entry.colour}`;
    entry.li.querySelector(".n").textContent = entry.who || "—";
    entry.li.querySelector(".t").textContent = localTime(entry.at);
    if (entry.seq !== shown) return; // a later scan is on screen
    const box = $("result");
    const [, , icon] = WORDS[entry.word];
    box.className = `result ${entry.colour} flash`;
    box.dataset.state = entry.status;
    box.dataset.direction = entry.direction || "";
    const what = document.createElement("div");
    what.className = "what";
    const english = document.createElement("span");
    english.className = "en"; english.lang = "en"; english.textContent = en;
    what.append(vi, english);
    const who = document.createElement("div");
    who.className = "who"; who.textContent = entry.who || "";
    const note = document.createElement("div");
    note.className = "note"; note.textContent = entry.note || "";
    const iconBox = document.createElement("div");
    iconBox.className = "icon"; iconBox.setAttribute("aria-hidden", "true"); iconBox.textContent = icon;
    const text = document.createElement("div");
    text.append(what, who, note);
    box.replaceChildren(iconBox, text);
  }

  function newEntry(text, described, key) {
    seq += 1;
    const li = document.createElement("li");
    li.innerHTML = '<span class="t"></span><span class="s pill"></span><span class="n"></span>';
    li.dataset.key = key;
    $("history").prepend(li);
    while ($("history").children.length > 50) $("history").lastChild.remove();
    const entry = {
      seq, key, li, described, at: new Date().toISOString(), status: "sending", word: "sending",
      colour: "idle", who: described.name || described.phone || "", note: "", direction: null,
    };
    entries.set(key, entry);
    state.scans.push(entry);
    shown = seq;
    render(entry);
    return entry;
  }

  function count(direction) {
    if (direction !== "in" && direction !== "out") return;
    state.counts[direction] += 1;
    localStorage.setItem(countsKey(), JSON.stringify(state.counts));
    $("count-in").textContent = state.counts.in;
    $("count-out").textContent = state.counts.out;
  }

  function recorded(entry, answer) {
    entry.status = answer.status;
    entry.direction = answer.direction;
    entry.word = answer.direction in WORDS ? answer.direction : "duplicate";
    entry.colour = answer.colour || codes.colour(answer.verification || "none");
    if (answer.visitor) entry.who = answer.visitor.name || answer.visitor.phone || entry.who;
    if (answer.occurred_at) entry.at = answer.occurred_at;
    entry.note = PROOF[answer.verification] || answer.verification || "";
    count(answer.direction);
    render(entry);
  }

  async function locally(entry, word, status) {
    const proof = await codes.verify(entry.described);
    entry.status = status;
    entry.word = word;
    entry.colour = codes.colour(proof) === "red" ? "red" : "queued";
    entry.note = (PROOF[proof] || proof) + (status === "queued" ? " · Chờ gửi · Pending" : " · Đã nhận · Accepted");
    render(entry);
  }

  async function accepted(entry, answer) {
    // The ingest stream took it (202 "accepted"): what the code itself proves, from the node's own
    // check of the signature when it sent one, else from the page's.
    if (answer.visitor_name) entry.who = answer.visitor_name;
    if (!answer.verification) return locally(entry, "accepted", "accepted");
    entry.status = "accepted"; entry.word = "accepted";
    entry.colour = codes.colour(answer.verification);
    entry.note = (PROOF[answer.verification] || answer.verification) + " · Đã nhận · Accepted";
    render(entry);
  }

  function rejected(entry, reason) {
    entry.status = "rejected"; entry.word = "rejected"; entry.colour = "red"; entry.note = reason;
    render(entry);
  }

  // -- the JSON API -----------------------------------------------------------------------------------
  async function bearer(force) {
    if (!force && token && tokenExpires - Date.now() / 1000 > 60) return token;
    const res = await fetch("/session/api-token", {
      method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin", redirect: "manual",
    });
    const json = (res.headers.get("content-type") || "").startsWith("application/json");
    if (!res.ok || !json) {
      token = null;
      throw new SessionLost(String(res.status));
    }
    const body = await res.json();
    token = body.access_token;
    tokenExpires = body.expires_at;
    return token;
  }

  async function post(path, body, bearerToken) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 8000);
    try {
      return await fetch("/api/v1" + path, {
        method: "POST", signal: abort.signal, cache: "no-store",
        headers: { Authorization: "Bearer " + bearerToken, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function api(path, body) {
    let res = await post(path, body, await bearer(false));
    if (res.status === 401) res = await post(path, body, await bearer(true));
    if (res.status === 401) throw new SessionLost("401");
    return res;
  }

  function sessionLost() {
    state.sessionLost = true;
    $("session-banner").hidden = false;
  }

  // -- one scan ---------------------------------------------------------------------------------------
  async function keep(entry, item) {
    await queue.put({ ...item, venue_id: venueId });
    await updatePending();
    await locally(entry, item.direction || "saved", "queued");
  }

  async function scan(text) {
    const described = codes.describe(text);
    const key = newKey();
    const entry = newEntry(text, described, key);
    const mode = state.mode;
    const entrance = $("entrance").value;
    const item = {
      idempotency_key: key, at: entry.at, text: text.trim(),
      direction: mode === "auto" ? undefined : mode, entrance_id: entrance || undefined,
    };
    if (!navigator.onLine || state.sessionLost) return keep(entry, item);
    let res;
    try {
      // The device id makes the live scan's key the same key a later batch upload of it carries.
      res = await api(`/venues/${encodeURIComponent(venueId)}/scans`, { ...item, device_id: deviceId });
    } catch (err) {
      if (err instanceof SessionLost) sessionLost();
      return keep(entry, item); // no answer: it may or may not have landed; the key settles it later
    }
    if (res.status === 200 || res.status === 201) {
      recorded(entry, await res.json());
      if (state.pending) flush();
    } else if (res.status === 202) {
      await accepted(entry, await res.json().catch(() => ({})));
    } else if (res.status === 429 || res.status >= 500) {
      await keep(entry, item);
    } else {
      const problem = await res.json().catch(() => ({}));
      const first = (problem.errors || [])[0];
      rejected(entry, (first && first.reason) || problem.detail || `HTTP ${res.status}`);
    }
  }

  // -- the offline queue ------------------------------------------------------------------------------
  async function updatePending() {
    state.pending = (await queue.all(venueId)).length;
    $("count-pending").textContent = state.pending;
  }

  function batchResult(result, item) {
    let entry = entries.get(result.idempotency_key);
    if (!entry) entry = newEntry(item.text || item.phone || "", codes.describe(item.text || item.phone || ""), result.idempotency_key);
    if (result.status === "rejected") return rejected(entry, result.reason || "rejected");
    return recorded(entry, { ...result, colour: codes.colour(result.verification || "none") });
  }

  let flushing = null;
  function flush() {
    if (flushing || !navigator.onLine || state.sessionLost) return flushing;
    flushing = (async () => {
      try {
        for (;;) {
          const items = (await queue.all(venueId)).slice(0, 500);
          if (!items.length) break;
          const scans = items.map(({ venue_id: _venue, ...scan }) => scan);
          const res = await api("/scan-batches", {
            venue_id: venueId, device_id: deviceId, sent_at: new Date().toISOString(), scans,
          });
          if (res.status === 202) { // a future ingest stream: acknowledged as a whole
            items.forEach((item) => { const e = entries.get(item.idempotency_key); if (e) locally(e, "accepted", "accepted"); });
            await queue.remove(items.map((i) => i.idempotency_key));
          } else if (res.ok) {
            const body = await res.json();
            const byKey = new Map(items.map((i) => [i.idempotency_key, i]));
            body.results.forEach((r) => batchResult(r, byKey.get(r.idempotency_key) || {}));
            await queue.remove(body.results.map((r) => r.idempotency_key).filter(Boolean));
          } else {
            break;
          }
          state.uploads += 1;
          await updatePending();
        }
      } catch (err) {
        if (err instanceof SessionLost) sessionLost();
      } finally {
        flushing = null;
        await updatePending();
      }
    })();
    return flushing;
  }
  state.flush = flush;
  state.summary = () => state.scans.map((e) => ({
    key: e.key, status: e.status, direction: e.direction, colour: e.colour, who: e.who, word: e.word,
  }));

  // -- the page -----------------------------------------------------------------------------------------
  const refocus = () => { if (document.activeElement !== field) field.focus({ preventScroll: true }); };
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = field.value;
    field.value = "";
    refocus();
    if (text.trim()) scan(text);
  });
  $("modes").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-mode]");
    if (!button) return;
    state.mode = button.dataset.mode;
    $("modes").querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    refocus();
  });
  $("entrance").addEventListener("change", refocus);
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
    // A printable key typed elsewhere (a scanner fires after a click on the page) goes to the scan
    // field; Space and Enter keep working on buttons for keyboard users.
    const printable = event.key.length === 1 && event.key !== " ";
    if (!typing && printable && !event.ctrlKey && !event.metaKey && !event.altKey) refocus();
  });
  window.uqrWatchNetwork((online) => {
    $("offline-banner").hidden = online;
    if (online) flush();
  });
  setInterval(flush, 15000);
  $("count-in").textContent = state.counts.in;
  $("count-out").textContent = state.counts.out;
  refocus();
  if (root.dataset.camera === "true" && window.uqrCamera) {
    window.uqrCamera.start($("video"), $("camera-status"), (text) => scan(text));
  }
  Promise.all([codes.loadTrust(), updatePending(), window.uqrKeepOffline()]).finally(() => {
    state.ready = true;
    flush();
  });
})();
