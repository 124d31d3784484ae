"""The shipped deployment keeps the operations port (SHOP_OPS_PORT, 9090: /metrics) private
while Prometheus still reaches it: the Kubernetes manifests, Compose and nginx agree.

    python3 -m unittest discover -s deploy/tests -v   (needs PyYAML)
"""

import os
import re
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPS_PORT = 9090
PUBLIC_PORT = 8080


def load(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return list(yaml.safe_load_all(f))


class OperationsPortStaysPrivate(unittest.TestCase):
    def test_the_pods_name_both_ports_and_prometheus_scrapes_the_private_one(self):
        (deployment,) = load("deploy", "k8s", "base", "deployment.yaml")
        pod = deployment["spec"]["template"]
        (app,) = [c for c in pod["spec"]["containers"] if c["name"] == "app"]
        ports = {p["name"]: p["containerPort"] for p in app["ports"]}
        self.assertEqual(ports, {"http": PUBLIC_PORT, "metrics": OPS_PORT})
        annotations = pod["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/port"], str(OPS_PORT))
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_the_ingress_routes_the_public_port_only(self):
        (ingress,) = load("deploy", "k8s", "base", "ingress.yaml")
        backends = [
            path["backend"]["service"]["port"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        ]
        self.assertTrue(backends)
        self.assertTrue(all(port == {"name": "http"} for port in backends), backends)
        (service,) = load("deploy", "k8s", "base", "service.yaml")
        targets = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
        self.assertEqual(targets, {"http": "http", "metrics": "metrics"})

    def test_only_the_monitoring_namespace_reaches_the_operations_port(self):
        (policy,) = load("deploy", "k8s", "base", "networkpolicy.yaml")
        for rule in policy["spec"]["ingress"]:
            ports = [p["port"] for p in rule.get("ports", [])]
            self.assertTrue(ports, "every rule names its ports")
            if OPS_PORT in ports:
                namespaces = [
                    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    for peer in rule["from"]
                ]
                self.assertEqual(namespaces, ["monitoring"])

    def test_the_service_monitor_scrapes_the_operations_port(self):
        (monitor,) = load("deploy", "monitoring", "servicemonitor.yaml")
        self.assertEqual([e["port"] for e in monitor["spec"]["endpoints"]], ["metrics"])

    def test_compose_publishes_the_public_port_only(self):
        (compose,) = load("deploy", "docker-compose.yml")
        apps = [s for s in compose["services"].values() if s.get("image", "").startswith("shop/reference-app")]
        self.assertTrue(apps)
        for service in apps:
            published = [str(p) for p in service.get("ports", [])]
            self.assertTrue(published)
            self.assertFalse([p for p in published if str(OPS_PORT) in p], published)

    def test_nginx_proxies_the_public_ports_only(self):
        # The fleet writes upstreams.conf from each replica's PORT, never its ops port.
        with open(os.path.join(ROOT, "scripts", "fleet")) as f:
            fleet = f.read()
        upstreams = [line for line in fleet.splitlines() if "upstreams.conf" in line and "server " in line]
        self.assertTrue(upstreams)
        for line in upstreams:
            self.assertRegex(line, r'setting "PORT_\$i"')
            self.assertNotIn("OPS_PORT", line)
        with open(os.path.join(ROOT, "deploy", "nginx", "nginx.conf")) as f:
            conf = f.read()
        self.assertEqual(re.findall(r"proxy_pass\s+(\S+);", conf), ["http://shop"])


if __name__ == "__main__":
    unittest.main()
