// Shared by pages that should open with no network (the citizen's code, the scanner): register the
// service worker and, on the first visit (before the worker controls the page), keep this page and
// the files it uses. The server marks the pages that may be kept ("X-Offline-Copy: safe").
"use strict";
window.uqrKeepOffline = function keepOffline() {
  if (!("serviceWorker" in navigator) || !("caches" in window)) return Promise.resolve(false);
  navigator.serviceWorker.register("/sw.js").catch(() => {});
  if (!navigator.onLine) return Promise.resolve(false);
  const files = Array.from(document.querySelectorAll("link[rel=stylesheet], link[rel=icon], script[src]"))
    .map((el) => el.href || el.src)
    .filter((url) => new URL(url).origin === location.origin);
  const keepFiles = caches.open("uqr-static-v1").then((cache) =>
    Promise.all(files.map((url) => cache.match(url).then((hit) => hit || cache.add(url)))));
  const keepPage = fetch(location.pathname, { credentials: "same-origin", cache: "no-store" }).then(async (res) => {
    if (!res.ok || res.redirected || res.headers.get("x-offline-copy") !== "safe") return false;
    await (await caches.open("uqr-pages")).put(location.pathname, res);
    return true;
  });
  return Promise.all([keepFiles, keepPage]).then(([, kept]) => kept).catch(() => false);
};

window.uqrWatchNetwork = function watchNetwork(onChange) {
  const apply = () => {
    document.body.classList.toggle("is-offline", !navigator.onLine);
    if (onChange) onChange(navigator.onLine);
  };
  window.addEventListener("online", apply);
  window.addEventListener("offline", apply);
  apply();
};
