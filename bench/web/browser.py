"""Time the page on a folder of photos in headless Chromium (bench/web/run.sh).

All photos are given to the page's file input at once, as a person would;
the page processes them one after another in its worker. Writes, per photo,
the worker's time (decode, detect, mask, encode, check, plus the message
passing) and the core's stage timings, and the wall time from picking the
files to the last result.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "web" / "test"))
from e2e import browser, serve  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path, required=True)
    ap.add_argument("--photos", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    photos = sorted(p.resolve() for p in args.photos.iterdir() if p.suffix == ".jpg")
    server = serve(args.dist.resolve())
    downloads = args.out.parent / "browser-downloads"
    downloads.mkdir(exist_ok=True)
    driver = browser(downloads, server.server_address[1])
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        status = driver.find_element(By.ID, "status")
        WebDriverWait(driver, 120).until(
            lambda d: status.get_attribute("data-state") in ("ready", "fatal"))
        assert status.get_attribute("data-state") == "ready", status.text
        t0 = time.time()
        driver.find_element(By.ID, "files").send_keys("\n".join(map(str, photos)))
        WebDriverWait(driver, 3600, poll_frequency=0.2).until(
            lambda d: len(d.find_elements(
                By.CSS_SELECTOR, "#list li[data-state=done], #list li[data-state=error]"))
            == len(photos))
        wall = time.time() - t0
        items = driver.find_elements(By.CSS_SELECTOR, "#list li")
        rows = []
        for li in items:
            assert li.get_attribute("data-state") == "done", li.text
            rows.append({"name": li.find_element(By.TAG_NAME, "button").text,
                         "ms": float(li.get_attribute("data-ms")),
                         "timings": json.loads(li.get_attribute("data-timings"))})
        ua = driver.execute_script("return navigator.userAgent")
    finally:
        driver.quit()
        server.shutdown()
    args.out.write_text(json.dumps({"wall_s": wall, "user_agent": ua, "photos": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
