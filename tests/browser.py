"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No websocket, no extra package: Chromium reads NUL-terminated JSON messages on file descriptor 3
and writes on 4. :func:`open_page` loads a URL in a fresh profile, records every network request
the page makes (``Network.requestWillBeSent``), every console message, log entry and uncaught
exception, and lets the caller evaluate JavaScript and take a screenshot. The browser is Debian's
``chromium`` (``.ci/run`` installs it); nothing here downloads anything.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
]


class Page:
    def __init__(self, proc, wfd, rfd, session, events, profile):
        self.proc, self.wfd, self.rfd, self.session, self.events = proc, wfd, rfd, session, events
        self.profile = profile
        self._buf = b""
        self._id = 100

    # -- protocol ---------------------------------------------------------------------------------
    def _recv(self, timeout=60.0):
        while b"\0" not in self._buf:
            r, _, _ = select.select([self.rfd], [], [], timeout)
            if not r:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=60.0):
        self._id += 1
        m = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        os.write(self.wfd, json.dumps(m).encode() + b"\0")
        t0 = time.monotonic()
        while True:
            msg = self._recv(max(1.0, timeout - (time.monotonic() - t0)))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method, timeout=60.0):
        t0 = time.monotonic()
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._recv(max(1.0, timeout - (time.monotonic() - t0))))

    def settle(self, seconds=0.5):
        """Collect events for a moment (late requests, late errors)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            try:
                self.events.append(self._recv(timeout=max(0.05, seconds - (time.monotonic() - t0))))
            except TimeoutError:
                break

    # -- what the page did ------------------------------------------------------------------------
    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def requests(self) -> list:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def errors(self) -> list:
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(("exception", json.dumps(p)[:300]))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(("console", json.dumps(p.get("args"))[:300]))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(("log", p["entry"].get("text", "")[:300]))
            elif m == "Network.loadingFailed":
                out.append(("network", p.get("errorText", "")))
        return out

    def screenshot(self, path, full_page=True):
        r = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page})
        data = base64.b64decode(r["data"])
        with open(path, "wb") as fh:
            fh.write(data)
        return data

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def open_page(url: str, width=1400, height=1000) -> Page:
    """Start chromium (fresh profile), open ``url`` and wait for its load event."""
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="kazerne-chromium-")

    def child():
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)  # dup2 onto 3 / 4 (inheritable)
        os.dup2(a, 3)
        os.dup2(b, 4)

    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
        close_fds=False,
        preexec_fn=child,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    events: list = []
    page = Page(proc, to_chrome_w, from_chrome_r, None, events, profile)
    try:
        t = page.call("Target.createTarget", {"url": "about:blank"}, session=False)
        page.session = page.call("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True}, session=False)[
            "sessionId"
        ]
        for dom in ("Page.enable", "Network.enable", "Runtime.enable", "Log.enable"):
            page.call(dom)
        page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        events.clear()
        page.call("Page.navigate", {"url": url})
        page.wait_for("Page.loadEventFired")
        page.settle(0.5)
    except BaseException:
        page.close()
        raise
    return page
