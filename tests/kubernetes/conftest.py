"""Rendered Kubernetes manifests and Flux objects for tests/kubernetes.

Every overlay is rendered once per session with ``kubectl kustomize``
(whole, and each of its two Flux layers). Test modules cannot import a
conftest (``--import-mode=importlib``), so shared data comes as fixtures.
"""

import pytest
from rendered_manifests import ENVIRONMENTS, LAYERS, ROOT, kustomize


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def environments():
    return ENVIRONMENTS


@pytest.fixture(scope="session")
def render():
    """render(path) -> list of objects, cached per path."""
    cache = {}

    def _render(path):
        path = (ROOT / path).resolve()
        if path not in cache:
            cache[path] = kustomize(path)
        return cache[path]

    return _render


@pytest.fixture(scope="session")
def overlays(render):
    """{env: [objects]} of every whole overlay."""
    return {env: render(f"kubernetes/overlays/{env}") for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def layers(render):
    """{(env, layer): [objects]}: what each Flux Kustomization applies."""
    return {(env, layer): render(f"kubernetes/overlays/{env}/{layer}") for env in ENVIRONMENTS for layer in LAYERS}


@pytest.fixture(scope="session")
def flux_objects(render):
    return render("flux")
