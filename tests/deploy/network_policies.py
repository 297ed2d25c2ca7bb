"""What Kubernetes NetworkPolicies allow, computed from the manifests as the API server defines it: a connection
is open when the source's egress and the destination's ingress both admit it, each direction denying everything
as soon as one policy of that type selects the pod. Enough of the API for this stack: podSelector and
namespaceSelector with matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), numeric ports."""

from dataclasses import dataclass

NAMESPACE = "scaling"
WORKLOADS = ("Deployment", "StatefulSet", "Job")


@dataclass(frozen=True)
class Peer:
    """A pod (by its app.kubernetes.io/name), or a party outside the namespace."""

    name: str
    labels: tuple[tuple[str, str], ...]
    namespace: str
    namespace_labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int], ...]  # (protocol, port) it listens on


# Outside the namespace: the edge (a load balancer or an Ingress controller: any address) and the cluster DNS.
EDGE = Peer("edge", (), "", (), ())
DNS = Peer(
    "kube-dns",
    (("k8s-app", "kube-dns"),),
    "kube-system",
    (("kubernetes.io/metadata.name", "kube-system"),),
    (("UDP", 53), ("TCP", 53)),
)


def pods(resources: list[dict]) -> list[Peer]:
    """One peer per workload of the namespace, with its pod template's labels and container ports."""
    found = []
    for resource in resources:
        if resource["kind"] not in WORKLOADS:
            continue
        template = resource["spec"]["template"]
        labels = template["metadata"]["labels"]
        ports = tuple(
            (port.get("protocol", "TCP"), port["containerPort"])
            for container in template["spec"]["containers"]
            for port in container.get("ports", [])
        )
        found.append(
            Peer(
                labels["app.kubernetes.io/name"],
                tuple(sorted(labels.items())),
                NAMESPACE,
                (("kubernetes.io/metadata.name", NAMESPACE),),
                ports,
            )
        )
    return found


def _matches(selector: dict | None, labels: tuple[tuple[str, str], ...]) -> bool:
    if selector is None:
        return False
    values = dict(labels)
    if any(values.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        present = key in values
        if operator == "In" and values.get(key) not in expression["values"]:
            return False
        if operator == "NotIn" and present and values[key] in expression["values"]:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def _peer_matches(rule_peer: dict, peer: Peer) -> bool:
    if "ipBlock" in rule_peer:
        return peer is EDGE  # an address block can only mean traffic from outside here
    namespace_selector = rule_peer.get("namespaceSelector")
    if namespace_selector is None:
        in_namespace = peer.namespace == NAMESPACE
    else:
        in_namespace = _matches(namespace_selector, peer.namespace_labels)
    pod_selector = rule_peer.get("podSelector", {})
    return in_namespace and _matches(pod_selector, peer.labels)


def _port_matches(rule: dict, protocol: str, port: int) -> bool:
    if not rule.get("ports"):
        return True
    return any(entry.get("protocol", "TCP") == protocol and entry.get("port") == port for entry in rule["ports"])


def _admits(policies: list[dict], direction: str, subject: Peer, other: Peer, protocol: str, port: int) -> bool:
    """Whether `subject`'s policies of this direction ("Ingress" or "Egress") admit traffic with `other`."""
    if subject.namespace != NAMESPACE:
        return True  # not governed by this namespace's policies
    selecting = [
        policy["spec"]
        for policy in policies
        if direction in policy["spec"].get("policyTypes", ["Ingress"])
        and _matches(policy["spec"]["podSelector"], subject.labels)
    ]
    if not selecting:
        return True
    peers_key = "from" if direction == "Ingress" else "to"
    return any(
        _port_matches(rule, protocol, port)
        and (not rule.get(peers_key) or any(_peer_matches(peer, other) for peer in rule[peers_key]))
        for spec in selecting
        for rule in spec.get(direction.lower(), [])
    )


def open_connections(resources: list[dict]) -> set[tuple[str, str, str]]:
    """Every (source, destination, "PROTOCOL/port") the policies allow, among the namespace's pods, the edge and
    the cluster DNS, to a port the destination listens on."""
    policies = [resource for resource in resources if resource["kind"] == "NetworkPolicy"]
    inside = pods(resources)
    opened = set()
    for source in [EDGE, *inside]:
        for destination in inside if source is EDGE else [*inside, DNS]:
            for protocol, port in destination.ports:
                if source is destination:
                    continue
                if _admits(policies, "Egress", source, destination, protocol, port) and _admits(
                    policies, "Ingress", destination, source, protocol, port
                ):
                    opened.add((source.name, destination.name, f"{protocol}/{port}"))
    return opened
