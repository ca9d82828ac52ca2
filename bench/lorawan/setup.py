#!/usr/bin/env python3
"""Helper of bench/lorawan/run.sh: sets up a running bysans through its REST API.

  setup.py URL OUT_DIR DEVICES RULES

One organisation; one application per shipped decoder (decoders/*.js, attached to the
application) with a FIWARE DeviceModel whose "x-bysans-ranges" the quality checker applies to
the decoded keys; DEVICES LoRaWAN devices spread over them; RULES threshold rules over the keys
their decoders produce (one per device, round-robin). Writes OUT_DIR/devices: one
"device_id devEui application_id fport:hex[,fport:hex...]" line per device (the frames its
decoder decodes, for bench_mqtt_load --chirpstack). Login: BENCH_ADMIN_EMAIL /
BENCH_ADMIN_PASSWORD. The HTTP helpers are bench/rules/tool.py's.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "rules"))
from tool import Api, parallel  # noqa: E402


def elsys_frames(i):
    """Elsys ERS CO2 TLV frames: temperature (0.1 °C), humidity, light, motion, CO2."""
    out = []
    for k in range(4):
        temp = 180 + (i * 7 + k * 13) % 80
        co2 = 400 + (i * 37 + k * 311) % 1300
        out.append("1:01%04x02%02x04%04x05%02x06%04x" % (temp, 30 + k * 5, 39 + k, k, co2))
    return out


def mbx_frames(i):
    """Decentlab DL-MBX: distance in mm (waste-bin level), one valid sample, battery."""
    return ["1:02012f0003%04x00010bb1" % (200 + (i * 53 + k * 401) % 1800) for k in range(4)]


# decoder file, frames(i) -> ["fport:hex"], the rule's expression over the decoded keys.
DECODERS = [
    ("elsys-ers-co2.js", elsys_frames, "co2 > 1500"),
    ("decentlab-dl-iam.js", lambda i: [
        "1:020bbd007f0b926a515d48bc4e0262006981c7000093d4000b0111",
        "1:020bbd006f0b926a515d48bc4e02620069000b0111"], "co2_concentration > 1500"),
    ("decentlab-dl-mbx.js", mbx_frames, "distance < 300"),
    ("decentlab-dl-pm.js", lambda i: [
        "1:021b50000f0c25002500270027002701f50107012c012d012d012d67bd618dbd10",
        "1:021b50000d0c2567bd618dbd10"], "pm10_mass_concentration > 50"),
    ("imbuildings-people-counter.js", lambda i: [
        "1:02060004a30b00f0d40e0001000000000020000d000a6a"], "counter_a > 1000"),
    ("axioma-qalcosonic-w1.js", lambda i: [
        "100:01aeac986a003217000000000000000000008003800054000e4005100048000240020000200000"
        "000000000000000000000000"], "log_volume_m3 > 10000"),
    ("milesight-ws101.js", lambda i: ["85:ff2e01", "85:017564ff2e02"], "battery < 10"),
]


# Quality ranges per decoder (the DeviceModel's "x-bysans-ranges"): keys its frames produce.
RANGES = {
    "elsys-ers-co2.js": {"co2": {"min": 0, "max": 10000, "unit": "ppm", "maxRatePerS": 50,
                                 "stuckCount": 12},
                         "temperature": {"min": -40, "max": 85, "unit": "Cel"}},
    "decentlab-dl-iam.js": {"co2_concentration": {"min": 0, "max": 10000, "unit": "ppm"},
                            "air_temperature": {"min": -40, "max": 85, "unit": "Cel"}},
    "decentlab-dl-mbx.js": {"distance": {"min": 0, "max": 5000, "unit": "mm", "stuckCount": 12}},
    "decentlab-dl-pm.js": {"pm10_mass_concentration": {"min": 0, "max": 1000, "unit": "ug/m3"},
                           "air_temperature": {"min": -40, "max": 85, "unit": "Cel"}},
    "imbuildings-people-counter.js": {"counter_a": {"min": 0, "max": 65535}},
    "axioma-qalcosonic-w1.js": {"log_volume_m3": {"min": 0, "max": 100000, "unit": "m3"}},
    "milesight-ws101.js": {"battery": {"min": 0, "max": 100, "unit": "%"}},
}


def main():
    url, out_dir, n_devices, n_rules = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    admin = Api(url)
    admin.call("POST", "/api/v1/auth/login",
               {"email": os.environ["BENCH_ADMIN_EMAIL"],
                "password": os.environ["BENCH_ADMIN_PASSWORD"]})
    org = admin.call("POST", "/api/v1/organizations", {"name": "Bench Kommune"})["id"]
    apps, models = [], []
    for name, _, _ in DECODERS:
        with open(os.path.join(ROOT, "decoders", name), encoding="utf-8") as f:
            code = f.read()
        dec = admin.call("POST", f"/api/v1/organizations/{org}/decoders",
                         {"name": name, "code": code})["id"]
        app = admin.call("POST", f"/api/v1/organizations/{org}/applications",
                         {"name": name[:-3]})["id"]
        admin.call("PUT", f"/api/v1/applications/{app}/decoder", {"decoderId": dec})
        model = admin.call("POST", f"/api/v1/organizations/{org}/device-models",
                           {"name": name[:-3], "brandName": "bench",
                            "controlledProperty": list(RANGES[name]),
                            "x-bysans-ranges": RANGES[name]})["id"]
        apps.append(app)
        models.append(model)
    apis = [Api(url, admin.cookie) for _ in range(4)]

    def create(k, i):
        kind = i % len(DECODERS)
        eui = "b5a0%012x" % i
        d = apis[k].call("POST", f"/api/v1/applications/{apps[kind]}/devices",
                         {"name": f"{DECODERS[kind][0][:-3]} {i}", "transport": "lorawan",
                          "devEui": eui, "deviceModelId": models[kind]})
        return d["id"], eui, kind

    t0 = time.time()
    devs = parallel(4, list(range(n_devices)), create)
    t1 = time.time()
    rules = []
    for r in range(n_rules):
        dev_id, _, kind = devs[r % len(devs)]
        rules.append({"name": f"rule {r}", "scope": {"kind": "device", "id": dev_id},
                      "severity": "warning", "expression": DECODERS[kind][2]})
    parallel(4, rules, lambda k, r: apis[k].call("POST", f"/api/v1/organizations/{org}/rules", r))
    t2 = time.time()
    with open(os.path.join(out_dir, "devices"), "w") as f:
        for i, (dev_id, eui, kind) in enumerate(devs):
            # The ChirpStack application id of the topic (a UUID in ChirpStack; any id here).
            f.write(f"{dev_id} {eui} 0c6e{apps[kind]:04x}-bench {','.join(DECODERS[kind][1](i))}\n")
    print(f"setup.py: {len(apps)} decoders/applications/device models, {n_devices} LoRaWAN "
          f"devices in "
          f"{t1 - t0:.1f} s, {n_rules} rules in {t2 - t1:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
