#!/usr/bin/env python3
"""HTTP receiver for bench/targets: counts the records each data target delivers (POST /<name>,
a JSON array of bysans envelopes) and, from POST /reset on, the lag of each record: arrival
time - receivedAt. GET /stats: {"count": {name: n}, "lag_p99_ms": x, "lag_n": n}.
Usage: receiver.py PORT_FILE [NAME] (writes the port it listens on; with NAME it also counts
an MQTT target's envelopes as bench_mqtt_target_reader counts them on stdin, as NAME)."""
import json
import re
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNT = {}
LAGS = []
RECEIVED_AT = re.compile(rb'"receivedAt":"([^"]+)"')


def received_ms(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time() * 1000.0
        if self.path == "/reset":
            with LOCK:
                LAGS.clear()
            return self.answer(204)
        # No JSON parse: the envelopes' receivedAt values are all this needs (and the receiver
        # must not eat the CPU bysans is measured with).
        times = RECEIVED_AT.findall(body)
        lags = [now - received_ms(t.decode()) for t in times]
        with LOCK:
            COUNT[self.path] = COUNT.get(self.path, 0) + len(times)
            LAGS.extend(lags)
        self.answer(200)

    def do_GET(self):
        with LOCK:
            lags = sorted(LAGS)
            stats = {"count": dict(COUNT), "lag_n": len(lags),
                     "lag_p99_ms": lags[int(len(lags) * 0.99)] if lags else 0}
        self.answer(200, json.dumps(stats).encode())


def count_mqtt(name):
    """Counts the envelopes an MQTT target published, as if they had been posted to `name`:
    bench_mqtt_target_reader writes "<count> <lag_ms>..." lines on stdin."""
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        with LOCK:
            COUNT[name] = COUNT.get(name, 0) + int(parts[0])
            LAGS.extend(map(float, parts[1:]))


if len(sys.argv) > 2:
    threading.Thread(target=count_mqtt, args=(sys.argv[2],), daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
