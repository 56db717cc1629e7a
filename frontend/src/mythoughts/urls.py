"""URLs of the frontend: the app's pages plus /metrics from django-prometheus."""

from django.conf import settings
from django.urls import include, path

urlpatterns = [
    path("", include("thoughts.urls")),
]

if settings.METRICS_ENABLED:
    from django_prometheus.exports import ExportToDjangoView

    from thoughts_common import uwsgi_metrics

    # django-prometheus's view (multiprocess-aware), plus the uWSGI pool's saturation gauges.
    urlpatterns.append(path("metrics", uwsgi_metrics.refreshed(ExportToDjangoView), name="prometheus-django-metrics"))

handler400 = "thoughts.refusals.bad_request"
