"""The shipped monitoring against the real thing: a running reference app scraped by a real
Prometheus whose scrape config is derived from deploy/monitoring/prometheus.yml, with the
shipped alert rules loaded. Run by scripts/monitoring-test, which starts both and passes
APP (the app's public base URL), OPS (its operations listener's), PROM (Prometheus's) and SCRAPE
(where to save a /metrics body taken after the traffic below, for `promtool check metrics`).

Checks: /metrics is served on the operations listener only (404 on the public port), and
Prometheus scrapes it there through the shipped job; the app is `up`; a 413, a 404 and a load-shed 503 are counted with their method,
route and status labels; every rule is loaded and healthy; every metric name the Grafana
dashboard and the alert rules use exists in a real scrape."""

import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

APP = os.environ["APP"]
OPS = os.environ["OPS"]
PROM = os.environ["PROM"]
ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, "../../.."))
MONITORING = os.path.join(REPO, "deploy/monitoring")

passed, failed = 0, 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what} {detail}")


def request(method, path, body=None, headers=None, base=None):
    req = urllib.request.Request((base or APP) + path, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def drive_traffic():
    """A 200, a 404, a 413, a failed login, and a load-shed 503 (the app runs with a
    concurrency limit of 1: one request stalled on its body holds it)."""
    status, _ = request("GET", "/api/products?limit=2")
    check("GET /api/products answers 200", status == 200, status)
    status, _ = request("GET", "/api/nothing-here")
    check("an unknown path answers 404", status == 404, status)
    big = b"{" + b" " * 70_000 + b"}"
    status, _ = request("POST", "/api/auth/login", big, {"Content-Type": "application/json"})
    check("an oversized body answers 413", status == 413, status)
    creds = json.dumps({"email": "nobody@example.com", "password": "not the password"}).encode()
    status, _ = request("POST", "/api/auth/login", creds, {"Content-Type": "application/json"})
    check("a wrong password answers 401", status == 401, status)

    host, port = urllib.parse.urlsplit(APP)[1].split(":")
    # (Tried up to three times: a Prometheus scrape holding the one permit at the moment the
    # stalled request arrives would have that one shed instead.)
    for _ in range(3):
        stalled = socket.create_connection((host, int(port)))
        stalled.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: shop\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.5)
        status, body = request("GET", "/api/products")
        stalled.close()
        if status == 503:
            break
        time.sleep(1)
    check("a request over the concurrency limit is shed with 503", status == 503, status)
    check("the shed request's problem says overloaded", b'"overloaded"' in body, body[:200])


def query(expr):
    url = f"{PROM}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as res:
        return json.load(res)["data"]["result"]


def wait_for(expr, seconds=40):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            result = query(expr)
            if result:
                return result
        except urllib.error.URLError:
            pass
        time.sleep(0.5)
    return []


def metric_names(expr):
    # Identifiers followed by a selector, a range or the end of a term; PromQL functions and
    # keywords are never followed by `{` or `[` and are not shop_/process_ names anyway.
    return set(re.findall(r"\b((?:shop|process)_[a-z0-9_]+|up)\b", expr))


def family(name):
    for suffix in ("_bucket", "_count", "_sum", "_total", "_created"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def shipped_relabelling_addresses_the_pod():
    """Applies the shipped job's relabelling (Prometheus's semantics: source labels joined by
    `;`, the regex anchored at both ends, `$n` in the replacement) to a pod as Kubernetes
    discovery describes it: the target must be the pod's IP and its annotated port."""
    job = yaml.safe_load(open(os.path.join(MONITORING, "prometheus.yml")))["scrape_configs"][0]
    pod = {"__address__": "10.1.2.3:9999", "__meta_kubernetes_pod_ip": "10.1.2.3",
           "__meta_kubernetes_pod_annotation_prometheus_io_port": "9090",
           "__meta_kubernetes_pod_label_app_kubernetes_io_name": "shop",
           "__meta_kubernetes_namespace": "shop-prod", "__meta_kubernetes_pod_name": "shop-0"}
    labels = dict(pod)
    for rule in job["relabel_configs"]:
        value = rule.get("separator", ";").join(labels.get(l, "") for l in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        action = rule.get("action", "replace")
        if action == "keep":
            check("the shop's pods are kept", match is not None, value)
        elif action == "replace" and match:
            replacement = re.sub(r"\$(\d+)", r"\\\1", rule.get("replacement", "$1"))
            labels[rule["target_label"]] = match.expand(replacement)
    check("the shipped relabelling scrapes the pod's IP and annotated port",
          labels["__address__"] == "10.1.2.3:9090", labels["__address__"])
    check("the target is labelled with its namespace and pod",
          (labels.get("namespace"), labels.get("pod")) == ("shop-prod", "shop-0"), labels)


def main():
    shipped_relabelling_addresses_the_pod()
    drive_traffic()
    # The limit is 1: the closing stalled request may still hold it, and shed this one (a
    # scrape no longer competes for it: it goes to the operations listener).
    for _ in range(50):
        status, body = request("GET", "/metrics")
        if status != 503:
            break
        time.sleep(0.1)
    check("GET /metrics on the public port answers 404", status == 404, (status, body[:200]))
    # The operations listener has no concurrency limit of its own: a scrape is never shed.
    status, scrape = request("GET", "/metrics", base=OPS)
    check("GET /metrics on the operations port answers 200", status == 200, status)
    scrape = scrape.decode()
    with open(os.environ["SCRAPE"], "w") as f:
        f.write(scrape)
    # The scrape after the traffic: Prometheus has seen it once this series exists.
    counted = wait_for('shop_http_requests_total{status="413"}')
    check("Prometheus scraped the app after the traffic", bool(counted))
    # (A scrape that met the stalled request was shed too: wait for the next one.)
    up = wait_for('up{job="shop"} == 1')
    check("up{job=\"shop\"} is 1", [r["value"][1] for r in up] == ["1"], up)
    for status, route, method in [("413", "/api/auth/login", "POST"), ("404", "unmatched", "GET"),
                                  ("503", "/api/products", "GET")]:
        expr = f'shop_http_requests_total{{status="{status}",route="{route}",method="{method}"}}'
        result = query(expr)
        value = float(result[0]["value"][1]) if result else 0
        check(f"{expr} counted", value >= 1, result)
    failures = query('shop_logins_total{outcome="failed"}')
    check("the failed login is counted", bool(failures) and float(failures[0]["value"][1]) >= 1, failures)

    with urllib.request.urlopen(f"{PROM}/api/v1/rules", timeout=10) as res:
        groups = json.load(res)["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    shipped = yaml.safe_load(open(os.path.join(MONITORING, "prometheusrule.yaml")))["spec"]["groups"]
    expected = sum(len(g["rules"]) for g in shipped)
    check(f"all {expected} shipped rules are loaded", len(rules) == expected, len(rules))
    check("every rule evaluates cleanly", all(r.get("health") == "ok" for r in rules),
          [(r["name"], r.get("lastError")) for r in rules if r.get("health") != "ok"])

    exposed = set()
    for line in scrape.splitlines():
        if line.startswith("# TYPE "):
            exposed.add(family(line.split()[2]))
        elif line and not line.startswith("#"):
            exposed.add(family(re.split(r"[{ ]", line, maxsplit=1)[0]))
    used = {}
    dashboard = json.load(open(os.path.join(MONITORING, "grafana-dashboard.json")))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for name in metric_names(target["expr"]):
                used.setdefault(name, f"dashboard: {panel['title']}")
    for group in shipped:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                used.setdefault(name, f"alert: {rule['alert']}")
    # `up` is Prometheus's own, written for every target it scrapes.
    used.pop("up", None)
    check("the dashboard and the rules use some of the app's metrics", len(used) > 10, used)
    for name, where in sorted(used.items()):
        check(f"{name} ({where}) is in a real scrape", family(name) in exposed)

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
