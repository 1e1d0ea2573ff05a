"""Prometheus metrics, one registry per running app so that tests can run several apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "communitybot_deliveries_received", "Deliveries verified and recorded", ["event"], registry=r
        )
        self.rejected = Counter(
            "communitybot_deliveries_rejected", "Deliveries refused, by reason", ["reason"], registry=r
        )
        self.duplicates = Counter(
            "communitybot_deliveries_duplicate", "Deliveries whose id was already recorded", registry=r
        )
        self.processed = Counter(
            "communitybot_deliveries_processed", "Deliveries all of whose handlers completed", ["event"], registry=r
        )
        self.failed = Counter(
            "communitybot_deliveries_failed", "Deliveries of which a handler raised", ["event"], registry=r
        )
        self.handler_errors = Counter(
            "communitybot_handler_errors", "Exceptions raised by handlers", ["handler"], registry=r
        )
        self.api_calls = Counter(
            "communitybot_github_api_calls", "Requests made to GitHub's API, by answer", ["method", "status"], registry=r
        )
        self.processing_seconds = Histogram(
            "communitybot_processing_seconds",
            "Time from a delivery's claim to the end of its handlers",
            registry=r,
        )
        self.in_hand = Gauge("communitybot_deliveries_in_hand", "Deliveries being processed now", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
