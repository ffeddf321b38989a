"""The dashboard's bench row: time to first render of the containers view,
measured in headless chromium (Debian's chromium + chromium-driver, driven
over WebDriver with the standard library only).

`first_render_ms(berth, host, runs)` starts `berth -H host dashboard`, logs
one browser in with the printed token, then loads the page `runs` times
and reads the page's own mark (`berth:containers-rendered`, set once the
first container list is on screen), in ms since navigation start.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
MARK = "return (performance.getEntriesByName('berth:containers-rendered')[0] || {}).startTime || null"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Driver:
    def __init__(self):
        self.port = _free_port()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.profile = tempfile.mkdtemp(prefix="berth-bench-chromium.")
        for _ in range(200):
            try:
                if self.call("GET", "/status")["value"]["ready"]:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", f"--user-data-dir={self.profile}"]}}}}
        self.session = self.call("POST", "/session", caps)["value"]["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)["value"]

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        except OSError:
            pass
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def first_render_ms(berth, host, runs=10, expect=None):
    dash = subprocess.Popen([berth, "-H", host, "dashboard", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    driver = None
    try:
        line = dash.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http://"))
        base = url.split("/login")[0]
        driver = _Driver()
        driver.s("POST", "/url", {"url": url})
        samples = []
        for i in range(runs + 1):
            driver.s("POST", "/url", {"url": base + "/"})
            t = None
            for _ in range(600):
                t = driver.s("POST", "/execute/sync", {"script": MARK, "args": []})
                if t:
                    break
                time.sleep(0.05)
            if t is None:
                raise RuntimeError("the containers view never rendered")
            if expect is not None and i == 0:
                shown = driver.s("POST", "/execute/sync", {"script": "return document.getElementById('container-count').innerText", "args": []})
                if not shown.endswith(f"of {expect}"):
                    raise RuntimeError(f"the view shows {shown!r}, expected {expect} containers")
            if i:  # the first load warms the caches
                samples.append(t)
        return statistics.median(samples)
    finally:
        if driver:
            driver.close()
        dash.terminate()
        dash.wait()
