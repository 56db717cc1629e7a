"""The NetworkPolicies let through exactly the flows Thoughts needs.

A small evaluator of NetworkPolicy semantics (podSelector, namespaceSelector,
ipBlock, ports; a flow needs the source's egress and the destination's
ingress) over the rendered pods plus the peers outside the namespace.
"""

import ipaddress

import pytest

ENVIRONMENTS = ("dev", "demo", "staging", "production")
# Peers outside the namespace: (namespace labels, pod labels, ip, ports).
EXTERNAL = {
    "ingress-controller": (
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"app": "ingress-nginx"},
        "10.244.9.1",
        [],
    ),
    "kube-dns": (
        {"kubernetes.io/metadata.name": "kube-system"},
        {"k8s-app": "kube-dns"},
        "10.244.9.2",
        [("UDP", 53), ("TCP", 53)],
    ),
    "api-server": (None, None, "10.96.0.1", [("TCP", 443)]),
    "webhook": (None, None, "203.0.113.10", [("TCP", 443)]),
}
APP_PODS = ("frontend", "users-backend", "thoughts-backend")
IN_NAMESPACE = (
    *APP_PODS,
    "users-migrate",
    "thoughts-migrate",
    "db",
    "syslog",
    "prometheus",
    "alertmanager",
    "grafana",
)


def expected_flows():
    flows = set()
    for pod in IN_NAMESPACE:
        flows.add((pod, "kube-dns", "UDP", 53))
        flows.add((pod, "kube-dns", "TCP", 53))
        flows.add((pod, "syslog", "UDP", 5140))
    for pod in APP_PODS:
        flows.add(("ingress-controller", pod, "TCP", 8000))
        flows.add(("prometheus", pod, "TCP", 8000))
    flows |= {
        ("frontend", "users-backend", "TCP", 8000),
        ("frontend", "thoughts-backend", "TCP", 8000),
        ("users-backend", "db", "TCP", 5432),
        ("thoughts-backend", "db", "TCP", 5432),
        ("users-migrate", "db", "TCP", 5432),
        ("thoughts-migrate", "db", "TCP", 5432),
        ("ingress-controller", "syslog", "TCP", 9001),
        ("ingress-controller", "prometheus", "TCP", 9090),
        ("ingress-controller", "grafana", "TCP", 3000),
        ("prometheus", "prometheus", "TCP", 9090),
        ("prometheus", "alertmanager", "TCP", 9093),
        ("grafana", "prometheus", "TCP", 9090),
        ("prometheus", "api-server", "TCP", 443),
        ("alertmanager", "webhook", "TCP", 443),
        # The API server's and the webhook's addresses are not known in advance:
        # both policies allow HTTPS to any address, so each reaches the other's too.
        ("alertmanager", "api-server", "TCP", 443),
        ("prometheus", "webhook", "TCP", 443),
    }
    return flows


def selects(selector, labels):
    if labels is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
        if expr["operator"] == "Exists" and expr["key"] not in labels:
            return False
    return True


def peer_matches(peer, endpoint, own_namespace_labels):
    ns_labels, pod_labels, ip = endpoint["ns_labels"], endpoint["labels"], endpoint["ip"]
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(ip)
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(e) for e in block.get("except", []))
    if "namespaceSelector" in peer:
        if ns_labels is None or not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif ns_labels != own_namespace_labels:
        return False
    if "podSelector" in peer:
        return selects(peer["podSelector"], pod_labels)
    return True


def port_matches(rule, protocol, port):
    if not rule.get("ports"):
        return True
    for p in rule["ports"]:
        assert isinstance(p.get("port"), int), "use port numbers in NetworkPolicies"
        if p.get("protocol", "TCP") == protocol and p["port"] <= port <= p.get("endPort", p["port"]):
            return True
    return False


def allowed(policies, direction, subject, peer, protocol, port, own_ns):
    """Is the flow allowed on the subject's side (subject is the source for Egress, the destination for Ingress)?"""
    if subject["external"]:
        return True
    selecting = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], subject["labels"])
    ]
    if not selecting:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in selecting:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            if (not peers or any(peer_matches(x, peer, own_ns) for x in peers)) and port_matches(rule, protocol, port):
                return True
    return False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_network_policies_allow_exactly_the_intended_flows(overlays, env):
    objects = overlays[env]
    namespace = f"thoughts-{env}"
    own_ns = {"kubernetes.io/metadata.name": namespace}
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    endpoints = {}
    for i, obj in enumerate(o for o in objects if o["kind"] in {"Deployment", "StatefulSet", "Job"}):
        template = obj["spec"]["template"]
        ports = {
            (p.get("protocol", "TCP"), p["containerPort"])
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        }
        endpoints[obj["metadata"]["name"]] = {
            "labels": template["metadata"]["labels"],
            "ns_labels": own_ns,
            "ip": f"10.244.0.{i + 10}",
            "ports": ports,
            "external": False,
        }
    assert set(endpoints) == set(IN_NAMESPACE)
    for name, (ns_labels, labels, ip, ports) in EXTERNAL.items():
        endpoints[name] = {"labels": labels, "ns_labels": ns_labels, "ip": ip, "ports": set(ports), "external": True}
    flows = set()
    for src_name, src in endpoints.items():
        for dst_name, dst in endpoints.items():
            if src["external"] and dst["external"]:
                continue
            for protocol, port in dst["ports"]:
                if allowed(policies, "Egress", src, dst, protocol, port, own_ns) and allowed(
                    policies, "Ingress", dst, src, protocol, port, own_ns
                ):
                    flows.add((src_name, dst_name, protocol, port))
    assert flows == expected_flows(), (
        f"unexpected: {sorted(flows - expected_flows())}\nmissing: {sorted(expected_flows() - flows)}"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_deny_comes_first(overlays, env):
    (deny,) = [o for o in overlays[env] if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "default-deny"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
