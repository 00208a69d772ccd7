# Operator and adapter image: the locked environment without dev tools.
#   docker build -t seam-jetstream-operator .
# (Not built in this repository's CI: its machines have no container engine.)
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY adapter_runtime adapter_runtime
COPY operator operator
COPY seam_harness seam_harness
COPY crds crds
RUN uv sync --frozen --no-dev --no-editable \
 && rm -rf /root/.cache

FROM python:3.11-slim
COPY --from=build /src/.venv /app
ENV PATH=/app/bin:$PATH PYTHONUNBUFFERED=1
USER 65532:65532
ENTRYPOINT ["seam-operator"]
