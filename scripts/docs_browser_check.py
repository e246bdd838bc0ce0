#!/usr/bin/env python3
"""Checks GET /docs in headless Chromium, driven over the DevTools protocol through a pipe
(--remote-debugging-pipe: JSON messages ended by NUL on file descriptors 3 and 4), with
Python's standard library only.

It opens the page, waits for Swagger UI to render openapi.yml, checks that every operation
of the spec (method, path, operationId) is listed, runs two requests from the page with
Try it out (GET /v1/health, and GET /v1/jobs with the bearer token given to the page's
Authorize dialog) and reads their answers, checks that the page loaded nothing from another
origin and that the browser reported no Content-Security-Policy violation, and saves a
screenshot.

    docs_browser_check.py --chromium /usr/bin/chromium --url http://127.0.0.1:PORT \
        --spec openapi.yml --token TOKEN --out DIR
"""
import argparse
import base64
import fcntl
import json
import os
import queue
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time


class DevTools:
    """One Chromium process and its DevTools pipe."""

    def __init__(self, binary, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Above the numbers the child needs, so moving them to 3 and 4 clobbers nothing.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
                "about:blank"]
        self.process = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child_fds,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(high_r)
        os.close(high_w)
        self._next_id = 0
        self._messages = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def call(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"Chromium did not answer {method} within {timeout} s")
            if reply is None:
                raise RuntimeError("Chromium closed its DevTools pipe")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def spec_operations(path):
    """(METHOD, path, operationId) of every operation under `paths:` (the file's layout:
    paths at two spaces, methods at four, operationId at six)."""
    operations, in_paths, current_path, method = set(), False, None, None
    for line in open(path, encoding="utf-8"):
        if re.match(r"^\S", line):
            in_paths = line.startswith("paths:")
            continue
        if not in_paths:
            continue
        if m := re.match(r"^  (/\S*):\s*$", line):
            current_path, method = m.group(1), None
        elif m := re.match(r"^    (get|put|post|delete|patch|head|options):\s*$", line):
            method = m.group(1).upper()
        elif (m := re.match(r"^      operationId:\s*(\S+)\s*$", line)) and current_path and method:
            operations.add((method, current_path, m.group(1)))
    return operations


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError("the screenshot is not a PNG")
    return struct.unpack(">II", data[16:24])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    failures = []
    expected = spec_operations(args.spec)
    if len(expected) < 10:
        sys.exit(f"found only {len(expected)} operations in {args.spec}: the spec's layout changed")

    with tempfile.TemporaryDirectory() as profile:
        browser = DevTools(args.chromium, profile)
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.call(f"{domain}.enable", session=session)
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": 1280, "height": 1800, "deviceScaleFactor": 1, "mobile": False}, session=session)
            browser.call("Page.navigate", {"url": args.url + "/docs"}, session=session)

            def evaluate(expression):
                result = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                           "awaitPromise": True}, session=session)
                if "exceptionDetails" in result:
                    raise RuntimeError(f"the page threw: {result['exceptionDetails'].get('text')}")
                return result["result"].get("value")

            def wait_for(expression, what, timeout=30):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    value = evaluate(expression)
                    if value:
                        return value
                    time.sleep(0.2)
                raise RuntimeError(f"timed out after {timeout} s waiting for {what}")

            wait_for(f"document.querySelectorAll('.opblock').length >= {len(expected)}", "Swagger UI to list the operations")
            listed = evaluate("""JSON.stringify([...document.querySelectorAll('.opblock')].map(b => [
                b.querySelector('.opblock-summary-method')?.textContent.trim().toUpperCase(),
                b.querySelector('.opblock-summary-path')?.getAttribute('data-path'),
                b.querySelector('.opblock-summary-operation-id')?.textContent.trim()]))""")
            shown = {tuple(op) for op in json.loads(listed)}
            missing, extra = expected - shown, shown - expected
            if missing:
                failures.append(f"operations of openapi.yml not listed on the page: {sorted(missing)}")
            if extra:
                failures.append(f"operations on the page that openapi.yml lacks: {sorted(extra)}")
            print(f"docs page lists {len(shown)} operations; openapi.yml has {len(expected)}")

            # The Authorize dialog's bearer token, as a reader would paste it.
            evaluate(f"window.ui.preauthorizeApiKey('bearerAuth', {json.dumps(args.token)}), true")

            def try_it_out(operation_id):
                block = f"[...document.querySelectorAll('.opblock')].find(b => b.querySelector('.opblock-summary-operation-id')?.textContent.trim() === '{operation_id}')"
                evaluate(f"({block}).querySelector('.opblock-summary-control').click(), true")
                wait_for(f"!!({block}).querySelector('.try-out__btn')", f"{operation_id}'s Try it out button")
                evaluate(f"({block}).querySelector('.try-out__btn').click(), true")
                wait_for(f"!!({block}).querySelector('.execute')", f"{operation_id}'s Execute button")
                evaluate(f"({block}).querySelector('.execute').click(), true")
                status = wait_for(f"({block}).querySelector('.live-responses-table .response .response-col_status')?.textContent.trim()",
                                  f"the answer to {operation_id}")
                body = evaluate(f"({block}).querySelector('.live-responses-table .response .response-col_description pre, .live-responses-table .highlight-code')?.textContent || ''")
                return status.split()[0], body

            status, body = try_it_out("getHealth")
            print(f"Try it out, GET /v1/health from the page: {status} {body.strip()[:80]!r}")
            if status != "200" or '"status"' not in body:
                failures.append(f"GET /v1/health from the page answered {status}: {body[:200]!r}")
            status, body = try_it_out("listJobs")
            print(f"Try it out, GET /v1/jobs with the Authorize token: {status} {body.strip()[:80]!r}")
            if status != "200" or '"items"' not in body:
                failures.append(f"GET /v1/jobs from the page with the token answered {status}: {body[:200]!r}")

            shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
            path = os.path.join(args.out, "docs.png")
            with open(path, "wb") as f:
                f.write(shot)
            width, height = png_size(shot)
            print(f"screenshot {path}: {width}x{height} px, {len(shot)} bytes")

            browser.call("Runtime.evaluate", {"expression": "1"}, session=session)  # collect the last events
            requests = [e["params"]["request"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
            foreign = sorted({r["url"] for r in requests if not (r["url"].startswith(args.url + "/") or r["url"].startswith("data:"))})
            if foreign:
                failures.append(f"the page loaded from elsewhere: {foreign}")
            jobs = [r for r in requests if r["url"].startswith(args.url + "/v1/jobs")]
            if not any(r.get("headers", {}).get("Authorization") == f"Bearer {args.token}" for r in jobs):
                failures.append("the page's GET /v1/jobs did not carry the Authorize dialog's bearer token")
            logs = [e["params"]["entry"] for e in browser.events if e.get("method") == "Log.entryAdded"]
            consoles = [" ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])
                        for e in browser.events if e.get("method") == "Runtime.consoleAPICalled"]
            violations = [l["text"] for l in logs if "Content Security Policy" in l.get("text", "")]
            violations += [c for c in consoles if "Content Security Policy" in c]
            if violations:
                failures.append(f"Content-Security-Policy violations: {violations[:5]}")
            errors = [e["params"]["exceptionDetails"].get("text") for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
            if errors:
                failures.append(f"the page threw: {errors[:5]}")
            print(f"{len(requests)} requests, all to {args.url}; {len(violations)} CSP violations; {len(errors)} page errors")
        finally:
            browser.close()

    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
