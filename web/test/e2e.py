"""End-to-end test of the page in headless Chromium (see web/e2e.sh).

Serves web/dist on 127.0.0.1, picks a photo with the public-domain astronaut
portrait pasted in and a GPS position in its EXIF, waits for the result,
downloads it and checks: the face changed, pixels outside the masks did not
(beyond the JPEG re-encode), no EXIF/GPS is left. Then draws a box by hand and
checks that region changed too. Finally checks the browser's network log: no
request after the page and model loaded. Saves a screenshot.
"""

import argparse
import functools
import hashlib
import http.server
import io
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Same pin as crates/blindfold-cli/tests/it/support.rs.
SKIMAGE_URL = (
    "https://files.pythonhosted.org/packages/dd/9b/"
    "9fb556463a34d9842491d72a421942c8baff4281025859c84fcdb5e7e602/"
    "scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
)
SKIMAGE_SHA256 = "24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641"
ASTRONAUT_FACE = (182, 58, 270, 178)  # x0, y0, x1, y1 in astronaut.png
PASTE_AT = (60, 40)
CANVAS = (900, 640)
MANUAL_BOX = (640, 380, 800, 540)  # drawn by hand on the plain background


def astronaut(cache: Path) -> Image.Image:
    path = cache / "astronaut.png"
    if not path.exists():
        with urllib.request.urlopen(SKIMAGE_URL, timeout=120) as r:
            wheel = r.read()
        got = hashlib.sha256(wheel).hexdigest()
        assert got == SKIMAGE_SHA256, f"sha256 of the scikit-image wheel is {got}"
        png = zipfile.ZipFile(io.BytesIO(wheel)).read("skimage/data/astronaut.png")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(png)
        tmp.rename(path)
    return Image.open(path).convert("RGB")


def test_photo(cache: Path, out: Path) -> Path:
    """The astronaut on a smooth background, as a JPEG with GPS in EXIF."""
    w, h = CANVAS
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([40 + xx * 160 // w, 60 + yy * 140 // h, np.full_like(xx, 150)], -1)
    canvas = Image.fromarray(bg.astype(np.uint8))
    canvas.paste(astronaut(cache), PASTE_AT)
    exif = Image.Exif()
    exif[0x010F] = "PhoneCo"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 27.72), 3: "E", 4: (2.0, 17.0, 42.0)}
    path = out / "astronaut-gps.jpg"
    canvas.save(path, quality=92, exif=exif)
    check = Image.open(path).getexif().get_ifd(0x8825)
    assert check.get(1) == "N", "the test photo must carry a GPS position"
    return path


class Server(http.server.SimpleHTTPRequestHandler):
    """Serves web/dist, and is also the browser's proxy for every request
    (loopback included), so it sees what the page and its worker ask for.
    Requests for any other host are logged and refused."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript"}
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        Server.seen.append(self.path)
        if url.scheme and url.netloc != "127.0.0.1:%d" % self.server.server_address[1]:
            self.send_error(403, "not this site")
            return
        if url.scheme:
            self.path = url.path + ("?" + url.query if url.query else "")
        super().do_GET()

    def do_CONNECT(self):
        Server.seen.append("CONNECT " + self.path)
        self.send_error(403, "not this site")

    do_POST = do_PUT = do_CONNECT


def chromium_own(request: str) -> bool:
    """Chromium's own background services (updates, sign-in), which some
    flags cannot switch off: they go through the proxy too, but are not the
    page's. The page's own requests are also checked in the DevTools log."""
    host = urllib.parse.urlsplit(request.split()[-1] if " " in request else request)
    name = host.hostname or request.split()[-1].split(":")[0]
    return name.endswith((".google.com", ".googleapis.com", ".gstatic.com"))


def serve(dist: Path):
    handler = functools.partial(Server, directory=str(dist))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def browser(downloads: Path, proxy_port: int):
    opts = webdriver.ChromeOptions()
    opts.add_argument(f"--proxy-server=http://127.0.0.1:{proxy_port}")
    opts.add_argument("--proxy-bypass-list=<-loopback>")
    opts.binary_location = "/usr/bin/chromium"
    # The browser's own background traffic (updates, sync, autofill) is
    # switched off so that every request the proxy sees comes from the page.
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--window-size=1100,1600", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-default-apps", "--disable-domain-reliability",
              "--disable-client-side-phishing-detection",
              "--disable-features=AutofillServerCommunication,OptimizationHints,"
              "MediaRouter,Translate,NetworkTimeServiceQuerying"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def requests(driver) -> list:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            url = msg["params"].get("request", {}).get("url") or msg["params"].get("url", "")
            urls.append(url)
    return urls


def wait_file(folder: Path, name: str, after: float) -> Path:
    path = folder / name
    for _ in range(200):
        if path.exists() and path.stat().st_mtime >= after and path.stat().st_size > 0:
            return path
        time.sleep(0.1)
    raise AssertionError(f"no download {name} in {folder}")


def masks(driver) -> list:
    """The outlined masks, as (kind, x0, y0, x1, y1) in image pixels."""
    out = []
    for el in driver.find_elements(By.CSS_SELECTOR, "#overlay .mask"):
        a = lambda k: float(el.get_attribute(k))  # noqa: E731
        if el.tag_name == "ellipse":
            cx, cy, rx, ry = a("cx"), a("cy"), a("rx"), a("ry")
            out.append(("ellipse", cx - rx, cy - ry, cx + rx, cy + ry))
        else:
            out.append(("rect", a("x"), a("y"), a("x") + a("width"), a("y") + a("height")))
    return out


def outside(masks_: list, shape, margin: float) -> np.ndarray:
    """Pixels whose centre is more than `margin` px outside every mask."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    keep = np.ones((h, w), bool)
    for kind, x0, y0, x1, y1 in masks_:
        x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
        if kind == "ellipse":
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
            inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        else:
            inside = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
        keep &= ~inside
    return keep


def mcu_of(img) -> tuple:
    """A JPEG's MCU size (width, height) from its chroma sampling."""
    from PIL import JpegImagePlugin

    return {0: (8, 8), 1: (16, 8), 2: (16, 16)}.get(JpegImagePlugin.get_sampling(img), (16, 16))


def whole_mcus(inside: np.ndarray, mcu: tuple, reach: int = 2) -> np.ndarray:
    """`inside` grown to every MCU it touches (the page edits a JPEG in the DCT
    domain and replaces whole MCUs), then by `reach` pixels (smooth chroma
    upsampling blends a replaced MCU into its neighbours)."""
    h, w = inside.shape
    bw, bh = mcu
    H, W = -(-h // bh) * bh, -(-w // bw) * bw
    pad = np.zeros((H, W), bool)
    pad[:h, :w] = inside
    blocks = pad.reshape(H // bh, bh, W // bw, bw).any(axis=(1, 3))
    grown = np.repeat(np.repeat(blocks, bh, 0), bw, 1)[:h, :w]
    out = grown.copy()
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            src = grown[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
            out[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] |= src
    return out


def region_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    return float(np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean())


def check_result(path: Path, original: np.ndarray, masks_: list) -> np.ndarray:
    data = path.read_bytes()
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG", img.format
    assert len(img.getexif()) == 0 and "exif" not in img.info, "EXIF left in the download"
    assert b"Exif\0\0" not in data and b"PhoneCo" not in data, "EXIF bytes left in the download"
    result = np.asarray(img.convert("RGB")).astype(np.int16)
    assert result.shape == original.shape, (result.shape, original.shape)
    # Outside the masks and the MCUs they touch: a JPEG is edited losslessly,
    # whole MCUs at a time.
    keep = ~whole_mcus(~outside(masks_, original.shape[:2], margin=3), mcu_of(img))
    diff = np.abs(result - original).max(-1)[keep]
    print(f"  outside the masks: {keep.mean():.1%} of pixels, mean change {diff.mean():.2f}, "
          f"largest change {diff.max()}")
    # Lossless: no pixel outside the masks' MCUs changes at all.
    assert diff.max() == 0, f"pixels outside the masks' MCUs changed (max {diff.max()})"
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    cache = os.environ.get("BLINDFOLD_CACHE") or Path.home() / ".cache" / "blindfold"
    ap.add_argument("--cache", type=Path, default=Path(cache) / "test-data")
    args = ap.parse_args()
    out = args.out.resolve()
    downloads = out / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for f in downloads.iterdir():
        f.unlink()
    photo = test_photo(args.cache, out)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(np.int16)
    x0, y0, x1, y1 = ASTRONAUT_FACE
    face = (x0 + PASTE_AT[0], y0 + PASTE_AT[1], x1 + PASTE_AT[0], y1 + PASTE_AT[1])

    server = serve(args.dist.resolve())
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    driver = browser(downloads, server.server_address[1])
    try:
        driver.get(url)
        status = driver.find_element(By.ID, "status")
        WebDriverWait(driver, 120).until(
            lambda d: status.get_attribute("data-state") in ("ready", "fatal"))
        assert status.get_attribute("data-state") == "ready", status.text
        page_loaded = requests(driver)
        loaded = list(Server.seen)
        print(f"page and model loaded with {len(loaded)} requests: {loaded}")
        assert any(u.endswith("centerface-prepared.onnx") for u in loaded), loaded
        assert any(u.endswith(".wasm") for u in loaded), loaded
        assert all(u.startswith(url) for u in page_loaded), "the page asked another site"
        assert all(u.startswith(url) or chromium_own(u) for u in loaded), "another site was asked"

        t0 = time.time()
        driver.find_element(By.ID, "files").send_keys(str(photo))
        WebDriverWait(driver, 300).until(
            lambda d: d.find_element(By.ID, "result").get_attribute("data-state") == "done")
        print(f"processed in {time.time() - t0:.1f} s: {driver.find_element(By.ID, 'faces').text}")
        removed = driver.find_element(By.ID, "removed").text
        print(f"  {removed}")
        assert "GPS position" in removed, removed
        found = masks(driver)
        assert found, "no mask on the astronaut"

        t1 = time.time()
        driver.find_element(By.ID, "download").click()
        first = check_result(wait_file(downloads, "astronaut-gps-blindfold.jpg", t1 - 1),
                             original, found)
        d = region_diff(first, original, face)
        print(f"  face region mean change: {d:.1f}")
        assert d > 30, "the face did not change"

        # Draw a box by hand over the plain background.
        svg = driver.find_element(By.ID, "overlay")
        rect = svg.rect
        sx, sy = rect["width"] / CANVAS[0], rect["height"] / CANVAS[1]
        bx0, by0, bx1, by1 = MANUAL_BOX

        def offset(x, y):  # selenium offsets are from the element's centre
            return round(x * sx - rect["width"] / 2), round(y * sy - rect["height"] / 2)

        before = len(found)
        ActionChains(driver).move_to_element_with_offset(svg, *offset(bx0, by0)).click_and_hold() \
            .move_to_element_with_offset(svg, *offset(bx1, by1)).release().perform()
        WebDriverWait(driver, 120).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#overlay .mask")) == before + 1
            and d.find_element(By.ID, "result").get_attribute("data-state") == "done")
        found2 = masks(driver)
        for f in downloads.iterdir():
            f.unlink()
        t2 = time.time()
        driver.find_element(By.ID, "download").click()
        second = check_result(wait_file(downloads, "astronaut-gps-blindfold.jpg", t2 - 0.5),
                              original, found2)
        inner = (bx0 + 20, by0 + 20, bx1 - 20, by1 - 20)
        d2 = region_diff(second, original, inner)
        print(f"  hand-drawn box mean change: {d2:.1f}; face: {region_diff(second, original, face):.1f}")
        assert d2 > 30, "the hand-drawn box did not change the photo"
        assert region_diff(second, original, face) > 30, "the face is no longer covered"

        # "Download all" gives a store-only zip holding the same file.
        t3 = time.time()
        driver.find_element(By.ID, "zip").click()
        with zipfile.ZipFile(wait_file(downloads, "blindfold.zip", t3 - 0.5)) as z:
            assert z.testzip() is None
            assert z.namelist() == ["astronaut-gps-blindfold.jpg"], z.namelist()
            zipped = z.read("astronaut-gps-blindfold.jpg")
        assert zipped == (downloads / "astronaut-gps-blindfold.jpg").read_bytes()

        driver.save_screenshot(str(out / "page.png"))

        # Clicking the hand-drawn outline removes it again.
        last = driver.find_elements(By.CSS_SELECTOR, "#overlay .mask")[-1]
        ActionChains(driver).move_to_element(last).click().perform()
        WebDriverWait(driver, 120).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#overlay .mask")) == before
            and d.find_element(By.ID, "result").get_attribute("data-state") == "done")
        print("  clicking the hand-drawn outline removed it")
        after = [u for u in requests(driver) if not u.startswith(("blob:", "data:"))]
        own = [u for u in Server.seen[len(loaded):] if chromium_own(u)]
        after += [u for u in Server.seen[len(loaded):] if not chromium_own(u)]
        print(f"requests after load: {after} (Chromium's own services, ignored: {len(own)})")
        assert not after, f"the page made network requests after load: {after}"
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()
        server.shutdown()
    print("e2e: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
