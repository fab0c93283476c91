// What a scanned code itself proves, worked out in the page: its kind, the masked name, and for a
// signed personal code the signature checked against the platform's trust list with WebCrypto
// (ECDSA P-256, SHA-256, raw r||s), in the order `unifiedqr verify` checks. The scanner shows this
// for scans it keeps offline and when the server only acknowledges a scan ("accepted"); the
// server's own answer wins whenever there is one. The trust list is kept for offline use.
"use strict";
window.uqrCodes = (() => {
  const SIGNATURE = /^[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{86}$/;
  // What the code alone supports (the door's health colour needs the platform's records): a refused
  // signature is red; anything else is neutral until the server answers.
  const NOT_REFUSED = new Set(["valid", "unsigned", "none", "not_checked"]);
  const TRUST_KEY = "uqr-trust-list";
  let trust = null;

  function fold(name) {
    return name.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toUpperCase().replace(/\s+/g, " ").trim();
  }

  function maskName(name) {
    const words = fold(name).split(" ").filter(Boolean);
    if (!words.length) return "";
    return words.slice(0, -1).map((w) => w[0] + "*".repeat(w.length - 1)).concat(words.slice(-1)).join(" ");
  }

  function maskPhone(phone) {
    let digits = phone.replace(/[^\d+]/g, "");
    if (digits.startsWith("+84")) digits = "0" + digits.slice(3);
    return digits.slice(0, 3) + "****" + digits.slice(-3);
  }

  /** The kind of code and what can be shown of it without the server. */
  function describe(text) {
    const value = text.trim();
    const fields = value.split("|");
    if (fields.length === 6 && (fields[3] === "0" || fields[3] === "1")) {
      const ext = fields[5].split("<");
      const last = ext[ext.length - 1];
      const signature = ext.length > 1 && SIGNATURE.test(last) ? last : null;
      return {
        kind: fields[0].startsWith("******") ? "personal_masked" : "personal",
        name: maskName(fields[1]), phone: null, signature,
        signed: signature ? value.slice(0, value.length - signature.length - 1) : null,
      };
    }
    if (fields.length >= 7 && /^\d{12}$/.test(fields[0]) && /^\d{8}$/.test(fields[3])) {
      return { kind: "cccd", name: maskName(fields[2]), phone: null, signature: null };
    }
    if (/^[+\d][\d .()-]{7,18}$/.test(value)) {
      return { kind: "phone", name: "", phone: maskPhone(value), signature: null };
    }
    return { kind: "unknown", name: "", phone: null, signature: null };
  }

  function b64(text, url) {
    const plain = url ? text.replace(/-/g, "+").replace(/_/g, "/") : text;
    const raw = atob(plain + "=".repeat((4 - (plain.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function b64url(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function loadTrust() {
    try {
      const res = await fetch("/api/v1/trust-list", { cache: "no-store" });
      if (res.ok) {
        trust = await res.json();
        localStorage.setItem(TRUST_KEY, JSON.stringify(trust));
        return trust;
      }
    } catch (err) { /* offline: the kept copy */ }
    const kept = localStorage.getItem(TRUST_KEY);
    trust = kept ? JSON.parse(kept) : null;
    return trust;
  }

  /** A verification status name, as the server's (valid, unsigned, bad_signature, ...). */
  async function verify(described, now = new Date()) {
    if (described.kind === "cccd" || described.kind === "phone") return "none";
    if (described.kind === "unknown") return "malformed";
    if (!described.signature) return "unsigned";
    if (!trust || !window.crypto || !crypto.subtle) return "not_checked";
    const keyId = described.signature.slice(0, 11);
    const entry = (trust.keys || []).find((k) => k.key_id === keyId);
    if (!entry) return "unknown_key";
    if (entry.revoked) return "key_revoked";
    try {
      const key = await crypto.subtle.importKey("spki", b64(entry.public_key, false),
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      const raw = b64(described.signature.slice(12), true);
      const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw,
        new TextEncoder().encode(described.signed));
      if (!ok) return "bad_signature";
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 16);
      if ((trust.revoked_codes || []).includes(b64url(digest))) return "code_revoked";
    } catch (err) {
      return "bad_signature";
    }
    if (now < new Date(entry.valid_from)) return "key_not_yet_valid";
    if (now >= new Date(entry.valid_until)) return "key_expired";
    return "valid";
  }

  function colour(status) {
    return NOT_REFUSED.has(status) ? "neutral" : "red";
  }

  return { describe, verify, colour, loadTrust, maskName };
})();
