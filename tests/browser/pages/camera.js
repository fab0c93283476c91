// Test-only harness for decoding a camera feed in the page (no inline script: pages get a strict CSP).
// Query: lib=zxing (vendored zxing-wasm, default) | jsqr (evaluation only, served by the bench at
// /eval/jsQR.js) | server (JPEG frames posted to /decode, served by the bench); frames=N keeps going
// for N decode attempts (read rate), otherwise it stops at the first read.
// Results for the test and the bench: window.cameraResult.
"use strict";

const params = new URLSearchParams(location.search);
const lib = params.get("lib") || "zxing";
const wanted = Number(params.get("frames") || 0);
const state = (window.cameraResult = {
  lib, status: "starting", text: null, firstMs: null, cameraMs: null, libraryMs: null,
  attempts: 0, reads: 0, texts: {}, decodeMs: [], error: null,
});
const out = document.getElementById("result");
const ZXING = "/static/vendor/zxing-wasm/";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(s);
  });
}

async function loadDecoder() {
  if (lib === "zxing") {
    await loadScript(ZXING + "zxing-reader.iife.js");
    // Never the library's default CDN: the .wasm comes from our own /static.
    await ZXingWASM.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? ZXING + path : prefix + path) },
      fireImmediately: true,
    });
    const options = { formats: ["QRCode"], maxNumberOfSymbols: 1, tryHarder: true };
    return async (image) => {
      const found = await ZXingWASM.readBarcodes(image, options);
      return found.length && found[0].isValid ? found[0].text : null;
    };
  }
  if (lib === "jsqr") {
    await loadScript("/eval/jsQR.js");
    return async (image) => {
      const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
      return found ? found.data : null;
    };
  }
  if (lib === "server") {
    return async (_image, canvas) => {
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      const answer = await fetch("/decode", { method: "POST", body: blob });
      const body = await answer.json();
      return body.text || null;
    };
  }
  throw new Error("unknown lib " + lib);
}

async function main() {
  const decode = await loadDecoder();
  state.libraryMs = performance.now();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  const video = document.getElementById("video");
  video.srcObject = stream;
  await video.play();
  state.cameraMs = performance.now();
  const canvas = document.createElement("canvas");
  const g = canvas.getContext("2d", { willReadFrequently: true });
  state.status = "scanning";
  const step = async () => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    g.drawImage(video, 0, 0);
    const image = g.getImageData(0, 0, canvas.width, canvas.height);
    const started = performance.now();
    let text = null;
    try {
      text = await decode(image, canvas);
    } catch (err) {
      state.error = String(err);
    }
    state.decodeMs.push(performance.now() - started);
    state.attempts += 1;
    if (text !== null) {
      state.reads += 1;
      state.texts[text] = (state.texts[text] || 0) + 1;
      if (state.text === null) {
        state.text = text;
        state.firstMs = performance.now(); // since navigation start: page load to decoded text
        out.textContent = text;
        out.dataset.state = "decoded";
      }
    }
    const finished = wanted > 0 ? state.attempts >= wanted : state.text !== null;
    if (finished) {
      state.status = "done"; // the video keeps playing, so a screenshot shows what the camera saw
    } else {
      video.requestVideoFrameCallback(step);
    }
  };
  video.requestVideoFrameCallback(step);
}

main().catch((err) => {
  state.status = "error";
  state.error = String(err);
  out.textContent = "error: " + err;
  out.dataset.state = "error";
});
