// The sign-in page: nobody is signed in on this browser, so the pages kept for offline use (the
// citizen's safe code, the scanner page) are dropped. The scanner's queue of unsent scans is not.
"use strict";
if ("caches" in window) {
  caches.delete("uqr-pages").catch(() => {});
}
