"""Times the SensorThings queries of `BENCH sta` against a running bysans (see run.sh).
Usage: measure.py BASE_URL EMAIL PASSWORD YEAR_THING_ID REPEAT READINGS"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

BASE, EMAIL, PASSWORD, YEAR_THING, REPEAT, READINGS = sys.argv[1:7]
REPEAT = int(REPEAT)
DAY_COUNT = min(144, int(READINGS) // 60_000)  # 10,000 devices x 6 keys per 10-minute step
URL = urllib.parse.urlsplit(BASE)
CONN = http.client.HTTPConnection(URL.hostname, URL.port, timeout=300)
HEADERS = {}
SAFE = "$=&(),;/:'@*"


def call(method, path, body=None):
    headers = dict(HEADERS)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    CONN.request(method, path, body=data, headers=headers)
    r = CONN.getresponse()
    payload = r.read()
    return r.status, r.getheader("Set-Cookie"), payload


def sta(path_and_query):
    path, _, query = path_and_query.partition("?")
    url = "/sta/v1.1/" + path + ("?" + urllib.parse.quote(query, safe=SAFE) if query else "")
    status, _, payload = call("GET", url)
    if status != 200:
        sys.exit(f"measure.py: GET {url} answered {status}: {payload[:300]!r}")
    return json.loads(payload)


def follow(url):
    """GETs an absolute @iot.nextLink."""
    parts = urllib.parse.urlsplit(url)
    status, _, payload = call("GET", parts.path + ("?" + parts.query if parts.query else ""))
    if status != 200:
        sys.exit(f"measure.py: GET {url} answered {status}: {payload[:300]!r}")
    return json.loads(payload)


def timed(fn):
    fn()  # warm-up
    runs = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


status, cookie, payload = call("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
if status != 200 or not cookie:
    sys.exit(f"measure.py: login answered {status}: {payload[:200]!r}")
HEADERS["Cookie"] = cookie.split(";", 1)[0]

first = sta("Things?$filter=name eq 'Lokale 1'&$expand=Datastreams")["value"][0]
day_ds = next(d["@iot.id"] for d in first["Datastreams"] if d["name"].endswith("temperature"))
year_ds = sta(f"Things({YEAR_THING})/Datastreams")["value"][0]["@iot.id"]


def day():
    v = sta(f"Datastreams({day_ds})/Observations?$filter=phenomenonTime ge 2024-01-01T00:00:00Z"
            " and phenomenonTime lt 2024-01-02T00:00:00Z&$orderby=phenomenonTime&$top=1000")
    if len(v["value"]) != DAY_COUNT:
        sys.exit(f"measure.py: a day of 10-minute readings gave {len(v['value'])} Observations")


def year():
    page = sta(f"Datastreams({year_ds})/Observations?$resultFormat=dataArray"
               "&$orderby=phenomenonTime&$top=100000")
    rows = 0
    while True:
        rows += sum(len(v["dataArray"]) for v in page["value"])
        if "@iot.nextLink" not in page:
            break
        page = follow(page["@iot.nextLink"])
    if rows != 52_560:
        sys.exit(f"measure.py: the year gave {rows} Observations, not 52,560")


def latest():
    v = sta("Things?$top=1000&$expand=Datastreams($expand=Observations($top=1;"
            "$orderby=phenomenonTime desc))")["value"]
    obs = sum(len(d.get("Observations", [])) for t in v for d in t.get("Datastreams", []))
    if len(v) != 1000 or obs != 6000:
        sys.exit(f"measure.py: latest of 1,000 Things gave {len(v)} Things, {obs} Observations")


CREATE_BASE = [1_767_225_600_000]  # 2026-01-01: new times on each run


def create():
    start = CREATE_BASE[0]
    CREATE_BASE[0] += 10_000 * 1000
    rows = [[time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((start + i * 1000) / 1000)) + "Z",
             20 + (i % 100) / 10] for i in range(10_000)]
    body = [{"Datastream": {"@iot.id": day_ds}, "components": ["phenomenonTime", "result"],
             "dataArray@iot.count": len(rows), "dataArray": rows}]
    status, _, payload = call("POST", "/sta/v1.1/CreateObservations", body)
    if status != 201:
        raise LookupError(f"{status}: {payload[:200]!r}")
    return status


day_ms = timed(day)
year_ms = timed(year)
latest_ms = timed(latest)
try:
    create_ms = timed(create)
    create_rate = f"{10_000 / (create_ms / 1000):.0f}"
except LookupError as e:
    print(f"measure.py: POST /CreateObservations: {e}", file=sys.stderr)
    create_rate = "n/a"
print(f"BENCH sta day_ms={day_ms:.2f} year_dataarray_ms={year_ms:.2f} "
      f"latest_1000_ms={latest_ms:.2f} create_obs_per_s={create_rate}")
