"""What a service's ``/metrics`` says, read with prometheus_client's own parser."""

import requests
from prometheus_client.parser import text_string_to_metric_families


class Samples:
    """The samples of one scrape."""

    def __init__(self, text):
        self.samples = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def total(self, name, **labels):
        """The sum of ``name`` over its samples that carry ``labels`` (and any others)."""
        return sum(value for n, have, value in self.samples if n == name and have.items() >= labels.items())

    def value(self, name, **labels):
        """The sample of ``name`` with exactly ``labels``; 0 when there is none (a series not yet counted)."""
        for n, have, value in self.samples:
            if n == name and have == labels:
                return value
        return 0.0

    def names(self):
        return {name for name, _, _ in self.samples}


def scrape(base, timeout=10):
    """The samples ``{base}/metrics`` answers."""
    response = requests.get(f"{base}/metrics", timeout=timeout)
    response.raise_for_status()
    return Samples(response.text)
