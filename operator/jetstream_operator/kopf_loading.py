"""Import kopf without the Kubernetes client libraries it would load if installed.

kopf imports ``kubernetes_asyncio.client`` (thousands of generated model classes, ~57 MB of RSS)
when it is importable, only to recognise its objects in ``kopf.adopt()``, and its default
registry prefers that library for logging in. The operator uses neither: kopf's own kubeconfig
and service-account logins suffice, and ``kubeapi`` speaks plain HTTP. The block lasts only
while kopf and its registry are built, so other code in the same interpreter (the benchmarks,
tests) can still import the client library.
"""

from __future__ import annotations

import sys

CLIENT_LIBRARIES = ("kubernetes_asyncio", "kubernetes", "pykube")


def load_kopf_without_client_libraries() -> None:
    if "kopf" in sys.modules:  # already imported (e.g. by a test): too late, leave it be
        return
    blocked = [name for name in CLIENT_LIBRARIES if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import kopf._core.intents.registries as registries

        registries.get_default_registry()  # chooses its login handlers now, while blocked
    finally:
        for name in blocked:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
