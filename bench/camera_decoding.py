"""Benchmark: decoding a camera feed for the future scanner page, in headless Chromium.

Chromium's fake camera plays a Y4M video of a real signed personal code (issued by ``unifiedqr demo``,
drawn by ``unifiedqr render``) held in front of the camera; the test page
``tests/browser/pages/camera.html`` decodes it three ways:

- ``zxing``: in the page with the vendored zxing-wasm (zxing-cpp compiled to WebAssembly);
- ``server``: each frame posted as a JPEG to ``/decode`` and read with the project's own decoder
  (``unifiedqr.imaging.decode.decode_image``, zxing-cpp, plain pass: live frames keep coming, so
  the photo cascade is not worth its time), served in-process by this script; the baseline;
- ``jsqr``: in the page with jsQR, only when ``--jsqr PATH/TO/jsQR.js`` is given (it is not vendored).

Per option and scenario: the time from navigation start to the first correct text (library load,
camera start and decoding included; median over page loads), the read rate over ``--frames``
consecutive decode attempts (each on a new video frame), the decode time per frame, and wrong reads
(must be zero). Scenarios: ``near`` (the code fills 60 % of a 640x480 frame and drifts a little) and
``far`` (28 %, more motion, blur and sensor noise: about 2.2 pixels a module).

Loopback only; every browser is headless with host names other than 127.0.0.1 unresolvable.
``--quick`` takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.browser

from tests.browser.browser import (
    DemoServer,
    StaticHandler,
    StaticServer,
    chrome,
    missing_browser,
    render_code_png,
    wait_for_js,
    write_y4m,
)

from support.common import report, row
from unifiedqr.imaging.decode import ImageError, decode_image

SCENARIOS: dict[str, dict[str, float]] = {
    "near": {"code_fraction": 0.6, "motion": 1.0, "blur": 0.0, "noise": 0.0},
    "far": {"code_fraction": 0.28, "motion": 2.0, "blur": 0.8, "noise": 6.0},
}
JSQR: Path | None = None


class _Handler(StaticHandler):
    """The test pages and ``/static``, plus ``/eval/jsQR.js`` and ``POST /decode`` for the comparison."""

    def translate_path(self, path: str) -> str:
        if path.split("?", 1)[0] == "/eval/jsQR.js" and JSQR is not None:
            return str(JSQR)
        return super().translate_path(path)

    def do_POST(self) -> None:
        if self.path != "/decode":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            found = decode_image(body, cascade=False)
        except ImageError:
            found = []
        answer = json.dumps({"text": found[0].text if found else None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def measure(driver: Any, url: str, expected: str) -> dict[str, Any]:
    driver.get(url)
    wait_for_js(driver, "['done', 'error'].includes(window.cameraResult.status)", timeout=60)
    result: dict[str, Any] = driver.execute_script("return window.cameraResult")
    if result["status"] == "error":
        raise RuntimeError(f"camera page: {result['error']}")
    result["wrong"] = sum(n for text, n in result["texts"].items() if text != expected)
    result["first_ok"] = result["text"] == expected
    return result


def main() -> None:
    global JSQR
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 page loads and 20 frames per option")
    parser.add_argument("--loads", type=int, default=5, help="page loads per option and scenario")
    parser.add_argument("--frames", type=int, default=60, help="decode attempts per page load")
    parser.add_argument("--jsqr", type=Path, default=None, help="jsQR.js (jsqr on npm) to compare too")
    args = parser.parse_args()
    if args.quick:
        args.loads, args.frames = 2, 20
    reason = missing_browser()
    if reason:
        sys.exit(f"cannot run: {reason}")
    JSQR = args.jsqr
    libs = ["server", "zxing"] + (["jsqr"] if JSQR else [])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="uqr-camera-") as tmp:
        work = Path(tmp)
        demo = DemoServer(work / "demo").start()
        try:
            expected = demo.personal_code()
        finally:
            demo.stop()
        png = render_code_png(expected, work / "code.png")
        with StaticServer(_Handler) as static:
            for scenario, shape in SCENARIOS.items():
                video = write_y4m(work / f"{scenario}.y4m", png, frames=30, fps=15, **shape)
                with chrome(work / f"profile-{scenario}", fake_video=video, loopback_only=True) as driver:
                    firsts: dict[str, float] = {}
                    for lib in libs:
                        runs = []
                        for _ in range(args.loads):
                            url = f"{static.url}/camera.html?lib={lib}&frames={args.frames}"
                            runs.append(measure(driver, url, expected))
                        ok = [r["firstMs"] for r in runs if r["first_ok"]]
                        reads = sum(r["reads"] - r["wrong"] for r in runs)
                        attempts = sum(r["attempts"] for r in runs)
                        per_frame = statistics.median(ms for r in runs for ms in r["decodeMs"])
                        if ok:
                            firsts[lib] = statistics.median(ok)
                            base = None if lib == "server" else firsts.get("server")
                            rows.append(
                                row(f"{scenario}_{lib}_first_text", firsts[lib], "ms", base, loads=len(ok))
                            )
                        if len(ok) < len(runs):
                            rows.append(
                                row(f"{scenario}_{lib}_loads_never_read", len(runs) - len(ok), "loads")
                            )
                        rows.append(
                            row(
                                f"{scenario}_{lib}_read_rate",
                                100 * reads / attempts,
                                "%",
                                None,
                                attempts=attempts,
                            )
                        )
                        rows.append(row(f"{scenario}_{lib}_decode_per_frame", per_frame, "ms", None))
                        rows.append(
                            row(f"{scenario}_{lib}_wrong_reads", sum(r["wrong"] for r in runs), "reads", None)
                        )
                        time.sleep(0.2)
    report("camera_decoding", rows)


if __name__ == "__main__":
    main()
