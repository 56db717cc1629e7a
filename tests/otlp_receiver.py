"""An OTLP/HTTP trace receiver: what a collector (Jaeger) does with ``POST /v1/traces``, minus the storage.

Bodies are protobuf ``ExportTraceServiceRequest`` messages, decoded with the
``opentelemetry-proto`` package; ``spans()`` gives every span received so far
with its service's name. ``python tests/otlp_receiver.py PORT`` runs one that
answers and discards (a sink for ``make bench`` with tracing on).
"""

import dataclasses
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PATH = "/v1/traces"


@dataclasses.dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict
    duration_ms: float


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body):
    """The spans of one ``ExportTraceServiceRequest`` body."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    found = []
    for resource_spans in request.resource_spans:
        resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    Span(
                        service=resource.get("service.name"),
                        name=span.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={item.key: _value(item.value) for item in span.attributes},
                        duration_ms=(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                    )
                )
    return found


class OtlpReceiver:
    """Listens on 127.0.0.1 (a free port unless given); ``endpoint`` is what OTEL_EXPORTER_OTLP_ENDPOINT takes."""

    def __init__(self, port=0, keep=True):
        self._spans, self._lock, self.requests = [], threading.Lock(), 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != PATH or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404 if self.path != PATH else 415)
                    return
                receiver.received(body if keep else None)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def received(self, body):
        spans = decode(body) if body is not None else []
        with self._lock:
            self.requests += 1
            self._spans.extend(spans)

    def spans(self):
        with self._lock:
            return list(self._spans)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    sink = OtlpReceiver(int(sys.argv[1]), keep=False)
    print(f"discarding OTLP traces posted to {sink.endpoint}{PATH}", flush=True)
    threading.Event().wait()
