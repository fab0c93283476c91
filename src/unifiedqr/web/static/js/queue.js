// The scanner's offline queue: scans kept in IndexedDB (they survive a reload, a crash or a dead
// battery) until the server has answered for them; each keeps its idempotency key, so an upload
// repeated after a lost answer is recorded once.
"use strict";
window.uqrQueue = (() => {
  const NAME = "uqr-scanner";
  const STORE = "queue";
  let opened = null;

  function db() {
    if (!opened) {
      opened = new Promise((resolve, reject) => {
        const request = indexedDB.open(NAME, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "idempotency_key" });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return opened;
  }

  async function run(mode, work) {
    const database = await db();
    return new Promise((resolve, reject) => {
      const tx = database.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  return {
    put: (item) => run("readwrite", (store) => store.put(item)),
    all: (venueId) => run("readonly", (store) => store.getAll()).then((items) => items.filter((i) => i.venue_id === venueId)),
    remove: (keys) => run("readwrite", (store) => { keys.forEach((key) => store.delete(key)); return null; }),
  };
})();
