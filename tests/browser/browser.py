"""Helpers for driving headless Chromium against the real server (a plain module, importable by tests
and by ``bench/``; the fixtures are in ``conftest.py``).

Everything here follows ``shared/browser-testing.md``: Debian's ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` named explicitly (Selenium never downloads a browser), a fresh profile per
browser, Chrome DevTools Protocol calls for what WebDriver cannot do (paced key events like a USB
keyboard-wedge scanner, network emulation), and Chromium's fake camera fed from a Y4M file.

Selenium is imported lazily so that this module (and the browser folder's conftest) still imports on
a machine without the test extra; the conftest then skips, or fails under ``CI``, with the reason.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
from PIL import Image, ImageFilter

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SRC = REPO / "src"
#: The package's static files (what the app serves at ``/static``).
STATIC = SRC / "unifiedqr" / "web" / "static"
#: Test-only pages (served by :class:`StaticServer`, never by the app).
PAGES = HERE / "pages"
#: Screenshots and other things a person may want to look at after a run (git-ignored).
ARTIFACTS = Path(os.environ.get("UNIFIEDQR_BROWSER_ARTIFACTS", HERE / "artifacts"))
GOLDEN = HERE / "golden"

CHROMIUM = Path(os.environ.get("UNIFIEDQR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("UNIFIEDQR_CHROMEDRIVER", "/usr/bin/chromedriver"))

#: The recipe's flags. ``--disable-dev-shm-usage`` because containers often have a small /dev/shm.
BASE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
)
#: Nothing but loopback resolves: a page that reaches for a CDN fails instead of quietly working on a
#: developer's connected laptop. (IP-literal URLs are not covered; the performance log is, see
#: :func:`requested_urls`.)
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"


class By:
    """Selenium's locator strategies (the same strings as ``selenium.webdriver.common.by.By``), here so
    that test modules import without Selenium and skip, or fail under CI, with the reason."""

    ID = "id"
    CSS_SELECTOR = "css selector"
    TAG_NAME = "tag name"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium, its driver and Selenium exist."""
    problems = []
    for what, path, env in (
        ("Chromium", CHROMIUM, "UNIFIEDQR_CHROMIUM"),
        ("ChromeDriver", CHROMEDRIVER, "UNIFIEDQR_CHROMEDRIVER"),
    ):
        if not (path.is_file() and os.access(path, os.X_OK)):
            problems.append(
                f"{what} not found at {path} (Debian: apt-get install chromium chromium-driver; elsewhere set {env})"
            )
    if importlib.util.find_spec("selenium") is None:
        problems.append("the Python package 'selenium' is not installed (pip install '.[test]')")
    return "; ".join(problems) or None


# -- the browser -----------------------------------------------------------------------------------


def start_chrome(
    user_data_dir: Path,
    *,
    fake_video: Path | None = None,
    loopback_only: bool = False,
    window: tuple[int, int] = (1280, 900),
    extra_flags: tuple[str, ...] = (),
) -> WebDriver:
    """Headless Chromium under ChromeDriver, both from fixed paths, with a fresh profile.

    ``fake_video``: a Y4M file fed to ``getUserMedia`` (the permission prompt is answered yes).
    ``loopback_only``: every host name but 127.0.0.1/localhost fails to resolve.
    The performance log is on, so :func:`requested_urls` can list every request the pages made.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    user_data_dir.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*BASE_FLAGS, f"--user-data-dir={user_data_dir}", f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    if fake_video is not None:
        options.add_argument("--use-fake-ui-for-media-stream")
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument(f"--use-file-for-fake-video-capture={fake_video}")
    if loopback_only:
        options.add_argument(LOOPBACK_ONLY)
    for flag in extra_flags:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def requested_urls(driver: WebDriver) -> list[str]:
    """Every network URL (http, https, ws, wss) the browser asked for since the last call, from the
    performance log's CDP events; ``chrome:``, ``data:`` and ``blob:`` URLs are not network."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.split(":", 1)[0] in ("http", "https", "ws", "wss"):
                urls.append(url)
    return urls


def outside_requests(driver: WebDriver) -> list[str]:
    """The URLs from :func:`requested_urls` that were not for 127.0.0.1 or localhost."""
    from urllib.parse import urlsplit

    return [u for u in requested_urls(driver) if urlsplit(u).hostname not in ("127.0.0.1", "localhost")]


def console_errors(driver: WebDriver) -> list[str]:
    """The page's console errors since the last call (uncaught exceptions, failed loads), ignoring
    the browser's own request for ``/favicon.ico``."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]


def type_like_scanner(driver: WebDriver, text: str, ms_per_char: float = 7.0, enter: bool = True) -> float:
    """Type ``text`` into the focused element the way a USB keyboard-wedge scanner does: one keyDown and
    keyUp per character at fixed target times ``ms_per_char`` apart, then Enter. Returns the achieved
    milliseconds per character (each CDP call costs ~2.5 ms, so below ~5 ms the pace is the floor).

    ``Input.dispatchKeyEvent`` with ``text`` inserts the character as typed, whatever the keyboard
    layout, so ``|`` and ``<`` arrive intact; unlike ``Input.insertText`` the page sees key events.
    """
    start = time.perf_counter()
    for i, ch in enumerate(text):
        _sleep_until(start + i * ms_per_char / 1000)
        event: dict[str, Any] = {"key": ch, "text": ch, "unmodifiedText": ch}
        if len(ch) == 1 and ch.isascii() and ch.isalnum():
            event["code"] = ("Key" + ch.upper()) if ch.isalpha() else "Digit" + ch
            event["windowsVirtualKeyCode"] = ord(ch.upper())
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", **event})
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch})
    elapsed = time.perf_counter() - start
    if enter:
        _sleep_until(start + len(text) * ms_per_char / 1000)
        enter_key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **enter_key})
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", **enter_key})
    return elapsed * 1000 / max(len(text), 1)


def _sleep_until(target: float) -> None:
    delay = target - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def set_offline(driver: WebDriver, offline: bool) -> None:
    """Emulate losing (or regaining) the network in this tab: ``navigator.onLine`` follows, fetches
    fail, and the page gets its ``offline``/``online`` events."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def set_viewport(driver: WebDriver, width: int, height: int, mobile: bool = True) -> None:
    """Emulate a device's viewport exactly (CSS pixels, scale 1); ``clear_viewport`` undoes it."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def clear_viewport(driver: WebDriver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save a PNG of the viewport as ``artifacts/<name>.png`` (a test artefact to look at)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"could not save the screenshot {path}")
    return path


@dataclass(frozen=True)
class GoldenResult:
    ok: bool
    detail: str

    def __bool__(self) -> bool:
        return self.ok


def compare_to_golden(
    png: Path | Image.Image, golden: Path, tolerance: float = 0.005, threshold: int = 48
) -> GoldenResult:
    """Does ``png`` look like ``golden``? Same size, and at most ``tolerance`` of the pixels differ by
    more than ``threshold`` (0-255, largest channel difference): anti-aliasing and font hinting pass,
    a moved or recoloured element does not. With ``UNIFIEDQR_UPDATE_GOLDEN=1`` the golden is
    (re)written from ``png`` instead: a deliberate change, to be reviewed like code. A missing golden
    is a failure, never silently created."""
    image = png if isinstance(png, Image.Image) else Image.open(png)
    if os.environ.get("UNIFIEDQR_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(golden, optimize=True)
        return GoldenResult(True, f"golden {golden.name} written")
    if not golden.exists():
        return GoldenResult(
            False, f"no golden {golden} (make it with UNIFIEDQR_UPDATE_GOLDEN=1 and review it)"
        )
    want = np.asarray(Image.open(golden).convert("RGB")).astype(np.int16)
    got = np.asarray(image.convert("RGB")).astype(np.int16)
    if got.shape != want.shape:
        return GoldenResult(
            False, f"size {got.shape[1]}x{got.shape[0]} != golden {want.shape[1]}x{want.shape[0]}"
        )
    changed = float((np.abs(got - want).max(axis=2) > threshold).mean())
    return GoldenResult(changed <= tolerance, f"{changed:.3%} of pixels differ (tolerance {tolerance:.3%})")


# -- the fake camera -------------------------------------------------------------------------------


def write_y4m(
    path: Path,
    image: Path | Image.Image,
    frames: int = 30,
    motion: float = 1.0,
    size: tuple[int, int] = (640, 480),
    fps: int = 10,
    code_fraction: float = 0.6,
    blur: float = 0.0,
    noise: float = 0.0,
) -> Path:
    """A Y4M video (4:2:0, JPEG full range, what Chromium's fake camera reads) of ``image`` held in
    front of the camera: the code fills ``code_fraction`` of the frame height on a grey background and
    drifts by up to ``12 * motion`` pixels and turns by up to ``4 * motion`` degrees over the clip
    (smoothly, so consecutive frames differ a little as with a hand). ``blur`` (Gaussian radius in
    pixels) and ``noise`` (standard deviation of sensor noise, 0-255) make it a worse camera; the
    noise is seeded, so a file is the same on every run. Chromium loops the file."""
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("size: width and height must be even (4:2:0 chroma)")
    code = (image if isinstance(image, Image.Image) else Image.open(image)).convert("L")
    side = round(height * code_fraction)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    rng = np.random.default_rng(16)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for i in range(frames):
            phase = 2 * math.pi * i / max(frames, 1)
            dx = 12 * motion * math.sin(phase)
            dy = 8 * motion * math.sin(2 * phase)
            angle = 4 * motion * math.sin(phase + 1.0)
            tile = code.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
            frame = Image.new("RGB", size, (118, 122, 128))
            x = round((width - tile.width) / 2 + dx)
            y = round((height - tile.height) / 2 + dy)
            frame.paste(tile.convert("RGB"), (x, y))
            if blur:
                frame = frame.filter(ImageFilter.GaussianBlur(blur))
            if noise:
                pixels = np.asarray(frame, dtype=np.float32) + rng.normal(0, noise, (height, width, 1))
                frame = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            out.write(b"FRAME\n")
            out.write(_i420(frame))
    return path


def _i420(frame: Image.Image) -> bytes:
    """Planar Y, then U and V averaged over 2x2 blocks (Pillow's YCbCr is the JPEG full range)."""
    ycc = np.asarray(frame.convert("YCbCr"), dtype=np.float32)
    h, w = ycc.shape[:2]
    planes = [ycc[:, :, 0]]
    for c in (1, 2):
        planes.append(ycc[:, :, c].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)))
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


# -- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The environment for a server subprocess: ours, with ``src`` on ``PYTHONPATH`` (no install)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class DemoServer:
    """``unifiedqr demo --json`` on 127.0.0.1 (a fresh SQLite database in ``data_dir``, seeded demo
    data), with the JSON it printed: ``accounts``, ``venues``, ``platforms``, ``people``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    info: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> DemoServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir / "server.log"
        command = [sys.executable, "-m", "unifiedqr", "demo", "--json", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=server_env(), stdout=subprocess.PIPE, stderr=log)
        printed = threading.Event()
        threading.Thread(target=self._read_stdout, args=(printed,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not printed.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the demo printed no JSON: {self.log_tail()}")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo server exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the demo server did not answer within {timeout:.0f} s: {self.log_tail()}")

    def _read_stdout(self, printed: threading.Event) -> None:
        """Collect the one JSON document the demo prints (indented or not), then keep draining."""
        assert self.process is not None and self.process.stdout is not None
        text = ""
        for raw in self.process.stdout:
            if printed.is_set():
                continue
            text += raw.decode("utf-8")
            if text.rstrip().endswith("}"):
                try:
                    self.info = json.loads(text)
                except json.JSONDecodeError:
                    continue
                printed.set()

    def log_tail(self) -> str:
        return self.log.read_text("utf-8", "replace")[-2000:] if self.log and self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def account(self, role: str) -> dict[str, Any]:
        return next(a for a in self.info["accounts"] if a["role"] == role)

    def local_venue_url(self, index: int = 0) -> str:
        """The venue code's URL on this server (the demo signs its codes for its own address)."""
        code = self.info["venues"][index]["code"]
        path = code[code.index("/v/") :]
        return self.url + path

    def personal_code(self, qid: str | None = None, masked: bool = False) -> str:
        """A person's signed code text, issued by the demo's first platform."""
        qid = qid or self.info["people"][0]["qid"]
        key = self.info["platforms"][0]["api_key"]
        response = httpx.get(
            f"{self.url}/api/v1/people/{qid}/code",
            params={"format": "text", "masked": str(masked).lower()},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.text.strip()


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """``/static/...`` from the package (as the app serves it), anything else from ``PAGES``."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/static/"):
            return str(STATIC / clean.removeprefix("/static/"))
        return str(PAGES / clean.lstrip("/"))

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class StaticServer:
    """Test-only pages (``tests/browser/pages``) plus the package's ``/static`` on 127.0.0.1, in a
    thread. For pages that do not exist in the app yet (the camera decoder); 127.0.0.1 is a secure
    context, so ``getUserMedia`` works."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler] = StaticHandler) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def render_code_png(text: str, path: Path) -> Path:
    """The code as a QR PNG, made with the project's CLI (``unifiedqr render - --png``)."""
    subprocess.run(
        [sys.executable, "-m", "unifiedqr", "render", "-", "--png", str(path), "--scale", "4"],
        input=text.encode("utf-8"),
        env=server_env(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def wait_for_js(driver: WebDriver, expression: str, timeout: float = 10, poll: float = 0.05) -> Any:
    """Poll ``return <expression>`` until it is truthy; returns its value (or raises TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return {expression}")
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} still falsy after {timeout} s")
        time.sleep(poll)


def sign_in(driver: WebDriver, base_url: str, login: str, password: str) -> str:
    """Sign in through the sign-in page at ``/`` like a person (typing, then the button); returns the
    path the role landed on."""
    from urllib.parse import urlsplit

    driver.delete_all_cookies()
    driver.get(base_url + "/")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    wait_for_js(driver, "document.readyState == 'complete' && location.pathname != '/'", timeout=15)
    return urlsplit(driver.current_url).path


def element_boxes(driver: WebDriver, selectors: list[str]) -> list[tuple[int, int, int, int]]:
    """Viewport boxes ``(left, top, right, bottom)`` of the elements ``selectors`` name (CSS pixels)."""
    script = (
        "return arguments[0].flatMap((s) => Array.from(document.querySelectorAll(s))).map((e) => {"
        " const r = e.getBoundingClientRect();"
        " return [Math.floor(r.left), Math.floor(r.top), Math.ceil(r.right), Math.ceil(r.bottom)]; });"
    )
    return [tuple(box) for box in driver.execute_script(script, selectors)]


def blank_boxes(
    image: Image.Image, boxes: list[tuple[int, int, int, int]], fill: str = "#ff00ff"
) -> Image.Image:
    """``image`` with ``boxes`` painted over: parts that differ on every run (a random QID, the code
    that carries it) are left out of a golden comparison, the layout around them is not."""
    from PIL import ImageDraw

    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    for box in boxes:
        draw.rectangle(box, fill=fill)
    return out


def no_horizontal_scroll(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"))


@contextlib.contextmanager
def chrome(user_data_dir: Path, **kwargs: Any) -> Iterator[WebDriver]:
    """:func:`start_chrome` as a context manager (quits the browser however the block ends)."""
    driver = start_chrome(user_data_dir, **kwargs)
    try:
        yield driver
    finally:
        driver.quit()
