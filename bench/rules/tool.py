#!/usr/bin/env python3
"""Helper of bench/rules/run.sh: talks to a running bysans over its REST API.

  tool.py devices URL N OUT_DIR     login, one organisation, 10 applications, N HTTP devices;
                                    writes OUT_DIR/keys.txt, ids.txt, org.txt, apps.txt, cookie.txt
  tool.py rules URL OUT_DIR N PROBES RECEIVER_URL
                                    N rules over the devices (mixed kinds); the first PROBES
                                    devices get a rule `probe > 0` whose webhook goes to RECEIVER_URL
  tool.py probe URL OUT_DIR PROBES RATE SECONDS PORT
                                    runs the webhook receiver on PORT and sends RATE probe readings
                                    per second (raise, later clear) to the probe devices; prints
                                    PROBE samples=<n> p50_ms= p99_ms= p99_from_send_ms= max_ms= lost=
Only the standard library: http.client with keep-alive connections, one per thread.
"""
import http.client
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse


def conn_for(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


class Api:
    def __init__(self, url, cookie=None):
        self.url = url
        self.conn = conn_for(url)
        self.cookie = cookie

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = json.dumps(body) if body is not None else None
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = conn_for(self.url)
                if attempt == 2:
                    raise
        if r.status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {r.status} {raw[:300]!r}")
        if r.getheader("Set-Cookie"):
            self.cookie = r.getheader("Set-Cookie").split(";")[0]
        return json.loads(raw) if raw else None


def parallel(n_threads, items, fn):
    """Runs fn(api_index, item) over items with n_threads workers; returns results in order."""
    out = [None] * len(items)
    errors = []

    def worker(k):
        try:
            for i in range(k, len(items), n_threads):
                out[i] = fn(k, items[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return out


def cmd_devices(url, n, out_dir):
    admin = Api(url)
    admin.call("POST", "/api/v1/auth/login",
               {"email": os.environ["BENCH_ADMIN_EMAIL"],
                "password": os.environ["BENCH_ADMIN_PASSWORD"]})
    org = admin.call("POST", "/api/v1/organizations", {"name": "Bench Kommune"})["id"]
    apps = [admin.call("POST", f"/api/v1/organizations/{org}/applications",
                       {"name": f"Bench {i}"})["id"] for i in range(10)]
    apis = [Api(url, admin.cookie) for _ in range(4)]

    def create(k, i):
        d = apis[k].call("POST", f"/api/v1/applications/{apps[i % 10]}/devices",
                         {"name": f"Sensor {i}", "transport": "http"})
        return d["id"], d["apiKey"]

    t0 = time.time()
    devs = parallel(4, list(range(n)), create)
    dt = time.time() - t0
    with open(os.path.join(out_dir, "keys.txt"), "w") as f:
        f.write("".join(f"{key}\n" for _, key in devs))
    with open(os.path.join(out_dir, "ids.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i, _ in devs))
    with open(os.path.join(out_dir, "org.txt"), "w") as f:
        f.write(f"{org}\n")
    with open(os.path.join(out_dir, "apps.txt"), "w") as f:
        f.write("".join(f"{a}\n" for a in apps))
    with open(os.path.join(out_dir, "cookie.txt"), "w") as f:
        f.write(admin.cookie + "\n")
    print(f"tool.py: {n} devices in {dt:.1f} s ({n / dt:.0f}/s)", file=sys.stderr)


def read_lines(out_dir, name):
    with open(os.path.join(out_dir, name)) as f:
        return [line.strip() for line in f if line.strip()]


def rule_defs(ids, apps, n, probes, receiver):
    """n rules: app-scoped ones, device thresholds / for-duration / rate, probe rules last."""
    rules = []
    for a in apps:
        rules.append({"name": f"frost {a}", "scope": {"kind": "application", "id": int(a)},
                      "severity": "warning", "expression": "temperature < -10"})
        rules.append({"name": f"wet {a}", "scope": {"kind": "application", "id": int(a)},
                      "severity": "info", "expression": "humidity > 95", "forMs": 300000})
    i = 0
    while len(rules) < n - probes:
        dev = int(ids[i % len(ids)])
        scope = {"kind": "device", "id": dev}
        kind = i % 4
        if kind == 0:
            r = {"expression": "co2 > 1500 and temperature > 24"}
        elif kind == 1:
            r = {"expression": "co2 > 900", "clearExpression": "co2 < 800", "forMs": 600000}
        elif kind == 2:
            r = {"expression": "temperature > 30 or humidity > 90"}
        else:
            r = {"kind": "rate_of_change",
                 "rate": {"key": "co2", "windowMs": 600000, "threshold": 2000,
                          "direction": "rise"}}
        r.update({"name": f"rule {i}", "scope": scope, "severity": "warning"})
        rules.append(r)
        i += 1
    # Probe rules last, probe 0 the very last (tool.py probe ... 1 then shows the load is done).
    for i in reversed(range(probes)):
        rules.append({"name": f"probe {i}", "scope": {"kind": "device", "id": int(ids[i])},
                      "severity": "info", "expression": "probe > 0",
                      "actions": [{"type": "webhook", "url": receiver, "on": ["raise"],
                                   "body": '{"device":{{device.id}},"event":"{{alarm.event}}"}'}]})
    return rules


def cmd_rules(url, out_dir, n, probes, receiver):
    cookie = read_lines(out_dir, "cookie.txt")[0]
    org = read_lines(out_dir, "org.txt")[0]
    ids = read_lines(out_dir, "ids.txt")
    apps = read_lines(out_dir, "apps.txt")
    rules = rule_defs(ids, apps, n, probes, receiver)
    apis = [Api(url, cookie) for _ in range(4)]
    t0 = time.time()
    path = f"/api/v1/organizations/{org}/rules"
    parallel(4, rules[:-1], lambda k, r: apis[k].call("POST", path, r))
    apis[0].call("POST", path, rules[-1])
    dt = time.time() - t0
    print(f"tool.py: {len(rules)} rules in {dt:.1f} s ({len(rules) / dt:.0f}/s)", file=sys.stderr)


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def cmd_probe(url, out_dir, probes, rate, seconds, port):
    keys = read_lines(out_dir, "keys.txt")[:probes]
    ids = [int(x) for x in read_lines(out_dir, "ids.txt")[:probes]]
    index_of = {d: i for i, d in enumerate(ids)}
    lock = threading.Lock()
    arrived = {}  # probe index -> list of arrival times (monotonic)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server API
            t = time.monotonic()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                doc = json.loads(body)
            except ValueError:
                return
            i = index_of.get(doc.get("device"))
            if i is not None and doc.get("event") == "raise":
                with lock:
                    arrived.setdefault(i, []).append(t)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    conn = conn_for(url)
    sent = []  # (probe index, raise number, t_send, t_ack)
    raises = [0] * probes

    def post(key, value):
        t_send = time.monotonic()
        conn.request("POST", f"/api/v1/receive-data?apiKey={key}",
                     body=json.dumps({"probe": value}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        t_ack = time.monotonic()
        if r.status != 204:
            raise RuntimeError(f"probe ingest: HTTP {r.status}")
        return t_send, t_ack

    for key in keys:  # alarms left active by an earlier probe run
        post(key, 0)
    time.sleep(1)
    # Every tick: clear the device probed half a cycle ago, raise the next one.
    interval = 1.0 / rate
    start = time.monotonic()
    step = 0
    half = max(1, probes // 2)
    while time.monotonic() - start < seconds:
        i = step % probes
        j = (step - half) % probes
        if step >= half:
            post(keys[j], 0)  # clear
        t_send, t_ack = post(keys[i], 1)
        sent.append((i, raises[i], t_send, t_ack))
        raises[i] += 1
        step += 1
        next_t = start + step * interval
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    deadline = time.monotonic() + 60  # late webhooks
    while time.monotonic() < deadline:
        with lock:
            got = sum(len(v) for v in arrived.values())
        if got >= len(sent):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    server.shutdown()
    lat_ack, lat_send, lost = [], [], 0
    with lock:
        for i, n, t_send, t_ack in sent:
            times = arrived.get(i, [])
            if n < len(times):
                lat_ack.append(max(0.0, times[n] - t_ack) * 1000)
                lat_send.append((times[n] - t_send) * 1000)
            else:
                lost += 1
    lat_ack.sort()
    lat_send.sort()
    print(f"PROBE samples={len(lat_ack)} p50_ms={percentile(lat_ack, 50):.1f} "
          f"p99_ms={percentile(lat_ack, 99):.1f} "
          f"p99_from_send_ms={percentile(lat_send, 99):.1f} "
          f"max_ms={(lat_ack[-1] if lat_ack else 0):.1f} lost={lost}")


def main():
    cmd = sys.argv[1]
    if cmd == "devices":
        cmd_devices(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "rules":
        cmd_rules(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif cmd == "probe":
        cmd_probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]),
                  float(sys.argv[6]), int(sys.argv[7]))
    else:
        sys.exit(f"tool.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
