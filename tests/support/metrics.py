"""Prometheus metrics as the tests read them: a scrape, a sum over labels, a sum over the gateway replicas."""

import httpx
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")  # HAProxy omits the charset
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels) -> float:
    wanted = set(labels.items())
    return sum(
        value for (sample, sample_labels), value in samples.items() if sample == name and wanted <= set(sample_labels)
    )


def gateway_total(stack, name: str, **labels) -> float:
    return sum(
        total(scrape(f"http://127.0.0.1:{stack.replica_port('gateway', index)}/metrics"), name, **labels)
        for index in stack.replicas("gateway")
    )
