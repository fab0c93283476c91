// The service worker (served at /sw.js so that its scope is the whole site).
// - Pages marked "X-Offline-Copy: safe" by the server (the citizen's masked code page, the scanner)
//   are fetched from the network first and kept, so they still open with no network. Nothing else
//   is kept: the full code (/me/full, /me?view=full) never carries that header.
// - Static files: versioned ones (?v=hash) and the vendored libraries (the 1 MB zxing .wasm) from the
//   cache first; the others from the network first.
"use strict";
const PAGES = "uqr-pages";
const STATIC = "uqr-static-v1";
const OFFLINE_PAGE = /^\/(me|scanner\/[A-Za-z0-9_-]{6,32}(\/camera)?)$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("uqr-static") && n !== STATIC).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && !url.search && OFFLINE_PAGE.test(url.pathname)) {
    event.respondWith(page(request, url.pathname));
  } else if (url.pathname.startsWith("/static/")) {
    const immutable = url.searchParams.has("v") || url.pathname.startsWith("/static/vendor/");
    event.respondWith(immutable ? cacheFirst(request) : networkFirst(request));
  }
});

async function page(request, key) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && response.headers.get("x-offline-copy") === "safe") {
      const cache = await caches.open(PAGES);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await (await caches.open(PAGES)).match(key);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(STATIC);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw error;
  }
}
