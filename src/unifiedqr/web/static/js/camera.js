// Reading QR codes from the camera in the page, with the vendored zxing-wasm (zxing-cpp, the same
// decoder as the server's), its .wasm from our own /static (never the library's default CDN).
// uqrCamera.start(video, status, onText): calls onText(text) for each code read, the same text
// at most once every `repeatMs` (a code held in front of the camera is one scan, not ten).
"use strict";
window.uqrCamera = (() => {
  const ZXING = "/static/vendor/zxing-wasm/";
  const OPTIONS = { formats: ["QRCode"], maxNumberOfSymbols: 1, tryHarder: true };

  function say(status, vi, en) {
    if (!status) return;
    const span = document.createElement("span");
    span.className = "en"; span.lang = "en"; span.textContent = en;
    status.replaceChildren(document.createTextNode(vi + " "), span);
  }

  async function start(video, status, onText, repeatMs = 8000) {
    const state = { reads: 0, last: "", lastAt: 0, error: null, running: false };
    window.cameraState = state;
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      state.error = "insecure";
      say(status, "Camera cần kết nối an toàn (https).", "The camera needs a secure (https) connection.");
      return state;
    }
    try {
      await ZXingWASM.prepareZXingModule({
        overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? ZXING + path : prefix + path) },
        fireImmediately: true,
      });
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
      });
      video.srcObject = stream;
      await video.play();
    } catch (err) {
      state.error = String(err && err.name || err);
      say(status, "Không mở được camera.", "Could not open the camera.");
      return state;
    }
    say(status, "Đưa mã QR vào khung.", "Hold a QR code inside the frame.");
    state.running = true;
    const canvas = document.createElement("canvas");
    const g = canvas.getContext("2d", { willReadFrequently: true });
    const step = async () => {
      if (!state.running) return;
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        g.drawImage(video, 0, 0);
        try {
          const found = await ZXingWASM.readBarcodes(g.getImageData(0, 0, canvas.width, canvas.height), OPTIONS);
          const text = found.length && found[0].isValid ? found[0].text : null;
          const now = performance.now();
          if (text && (text !== state.last || now - state.lastAt > repeatMs)) {
            state.last = text; state.lastAt = now; state.reads += 1;
            onText(text);
          }
        } catch (err) {
          state.error = String(err);
        }
      }
      setTimeout(step, 100);
    };
    step();
    return state;
  }

  return { start, say };
})();
