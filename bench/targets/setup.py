#!/usr/bin/env python3
"""bench/targets set-up through the API: setup.py URL TMP DEVICES creates an organisation, an
application and DEVICES MQTT devices (TMP/devices: "id user password" lines, TMP/app: the
application id). setup.py URL TMP targets RECEIVER_URL N creates N targets on the application:
HTTP push (batchSize 500) to RECEIVER_URL/t<i>, the last one an MQTT publish target (QoS 1, topic
bench/t<i>/<device>) when BENCH_MQTT_TARGET_URL names a broker; paused when a 6th argument says
"paused"; setup.py URL TMP pause|resume pauses or resumes them."""
import json
import os
import sys
import urllib.request
from http.cookiejar import CookieJar

URL, TMP, WHAT = sys.argv[1], sys.argv[2], sys.argv[3]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def call(method, path, body=None):
    req = urllib.request.Request(URL + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with opener.open(req) as r:
        text = r.read()
        return json.loads(text) if text else None


call("POST", "/api/v1/auth/login", {"email": "bench@bysans.local",
                                    "password": "bench-password-123"})
if WHAT.isdigit():
    org = call("POST", "/api/v1/organizations", {"name": "Bench Kommune"})["id"]
    app = call("POST", f"/api/v1/organizations/{org}/applications", {"name": "Rooms"})["id"]
    with open(f"{TMP}/devices", "w") as f:
        for i in range(int(WHAT)):
            d = call("POST", f"/api/v1/applications/{app}/devices",
                     {"name": f"Room sensor {i + 1}", "transport": "mqtt"})
            f.write(f"{d['id']} {d['mqtt']['username']} {d['mqtt']['password']}\n")
    with open(f"{TMP}/app", "w") as f:
        f.write(str(app))
    sys.exit(0)
app = open(f"{TMP}/app").read().strip()
if WHAT == "targets":
    n = int(sys.argv[5])
    paused = len(sys.argv) > 6 and sys.argv[6] == "paused"
    mqtt_url = os.environ.get("BENCH_MQTT_TARGET_URL", "")
    for i in range(n):
        if mqtt_url and i == n - 1:  # the last target publishes to the external broker
            body = {"type": "mqtt", "url": mqtt_url, "topic": f"bench/t{i}/{{device}}", "qos": 1,
                    "batchSize": 500}
        else:
            body = {"url": f"{sys.argv[4]}/t{i}", "batchSize": 500}
        body.update({"name": f"t{i}", "maxAttempts": 1000000, "paused": paused})
        call("POST", f"/api/v1/applications/{app}/data-targets", body)
else:
    for t in call("GET", f"/api/v1/applications/{app}/data-targets")["items"]:
        call("POST", f"/api/v1/data-targets/{t['id']}/{WHAT}", {})
