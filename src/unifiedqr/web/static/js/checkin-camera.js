// The check-in landing page's camera option: read the citizen's own personal code and submit it
// through the page's ordinary (anonymous) form, exactly as if it had been pasted.
"use strict";
(() => {
  const video = document.getElementById("video");
  const status = document.getElementById("camera-status");
  const form = document.getElementById("camera-form");
  const field = document.getElementById("camera-code");
  let sent = false;
  window.uqrCamera.start(video, status, (text) => {
    if (sent) return;
    const fields = text.split("|");
    if (fields.length !== 6) {
      window.uqrCamera.say(status, "Đây không phải mã QR cá nhân.", "This is not a personal QR code.");
      return;
    }
    sent = true;
    window.uqrCamera.say(status, "Đã đọc mã, đang gửi…", "Code read, sending…");
    field.value = text;
    form.submit();
  });
})();
