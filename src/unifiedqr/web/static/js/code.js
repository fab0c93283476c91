// The citizen's card: the one-tap full/masked toggle (a form button: without script it loads
// /me?view=full) and offline use.
// The full values come from /me/full on request (never cached, kept in memory only while shown).
"use strict";
(() => {
  const card = document.getElementById("code-card");
  const toggle = document.getElementById("toggle");
  const doc = document.getElementById("document");
  const birth = document.getElementById("birth-date");
  const qr = document.getElementById("qr");
  const label = document.getElementById("mode-label");
  window.uqrWatchNetwork();
  window.codePage = { offlineReady: false };
  if (card.dataset.full !== "true") {
    window.uqrKeepOffline().then((kept) => { window.codePage.offlineReady = kept; });
  } else {
    navigator.serviceWorker && navigator.serviceWorker.register("/sw.js").catch(() => {});
    return; // the page without script's full view: its toggle is a plain link back to /me
  }
  const masked = {
    doc: doc.textContent, birth: birth.textContent, qr: Array.from(qr.childNodes),
    label: Array.from(label.childNodes), toggle: Array.from(toggle.childNodes), aria: qr.getAttribute("aria-label"),
  };
  let full = null;
  let showing = false;

  function bilingual(vi, en) {
    const span = document.createElement("span");
    span.className = "en"; span.lang = "en"; span.textContent = en;
    return [document.createTextNode(vi + " "), span];
  }

  async function fetchFull() {
    const res = await fetch("/me/full", { credentials: "same-origin", cache: "no-store", redirect: "manual" });
    if (!res.ok) throw new Error("status " + res.status);
    return res.json();
  }

  document.getElementById("toggle-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!showing) {
      try {
        full = full || await fetchFull();
      } catch (err) {
        label.replaceChildren(...bilingual("Cần có mạng để hiện đầy đủ", "Needs the network to show the full code"));
        return;
      }
      doc.textContent = full.document_number;
      birth.textContent = full.birth_date;
      const img = document.createElement("img");
      img.src = full.qr; img.alt = "";
      qr.replaceChildren(img);
      qr.setAttribute("aria-label", "Mã QR đầy đủ · Full QR code");
      toggle.replaceChildren(...bilingual("Che bớt", "Mask"));
      label.replaceChildren(...bilingual("Đang hiện đầy đủ", "Showing full"));
    } else {
      doc.textContent = masked.doc;
      birth.textContent = masked.birth;
      qr.replaceChildren(...masked.qr);
      qr.setAttribute("aria-label", masked.aria);
      toggle.replaceChildren(...masked.toggle);
      label.replaceChildren(...masked.label);
    }
    showing = !showing;
    toggle.setAttribute("aria-pressed", String(showing));
    document.body.classList.toggle("showing-full", showing);
  });
  // Leaving the page (or hiding it) forgets the full values.
  document.addEventListener("visibilitychange", () => { if (document.hidden) full = null; });
})();
