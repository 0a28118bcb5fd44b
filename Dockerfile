# nnserve: the ONNX serving half only (no torch, no training code), as a small non-root image.
#
#   docker build -t nnserve .                                   # CPU, python:3.11-slim
#   docker build -t nnserve:gpu \
#     --build-arg BASE_IMAGE=nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04 \
#     --build-arg ONNXRUNTIME_PACKAGE=onnxruntime-gpu .         # CUDA, same file
# onnxruntime-gpu (pinned in constraints.txt) needs the CUDA major version and cuDNN it was built
# for: 1.31 wants CUDA 13 and cuDNN 9, so pick the base image to match when the pin moves.
#
# Stage 1 builds a virtual environment with the service's base dependencies pinned by
# constraints.txt plus the service package; stage 2 copies that venv and models/ onto a fresh base.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
ARG ONNXRUNTIME_PACKAGE=onnxruntime
# CUDA bases ship no Python: take the distribution's (python:* bases skip this).
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY pyproject.toml constraints.txt ./
# The requirement list is pyproject's [project] dependencies (never the train/dev extras), with
# onnxruntime swapped for ONNXRUNTIME_PACKAGE; constraints.txt pins every version.
RUN python3 -c "import re, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
print('\n'.join(re.sub(r'^onnxruntime(?=[<>=!~ ;\[]|$)', sys.argv[1], d) for d in deps))" \
      "${ONNXRUNTIME_PACKAGE}" > requirements.txt \
 && cat requirements.txt \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --no-cache-dir -q --upgrade pip \
 && /opt/venv/bin/python -m pip install --no-cache-dir -q -c constraints.txt -r requirements.txt
# The service itself, installed (so it knows its version): training/ is not in the build
# context (.dockerignore), so the wheel holds the service package only. The wheel carries
# models/ too (pyproject); the image serves /app/models (which compose and Kubernetes mount
# over), so the packaged copy is dropped rather than shipped twice.
COPY README.md ./
COPY service/ ./service/
COPY models/ ./models/
RUN /opt/venv/bin/python -m pip install --no-cache-dir -q --no-deps . \
 && rm -rf /opt/venv/lib/python3*/site-packages/service/models \
 && /opt/venv/bin/python -m pip uninstall -y -q pip setuptools \
 && ! /opt/venv/bin/python -c "import torch" 2>/dev/null \
 && ! /opt/venv/bin/python -c "import training" 2>/dev/null
# Test suites inside wheels and type stubs are never imported by the service: drop them.
RUN find /opt/venv -depth -type d \( -name tests -o -name test \) -path '*/site-packages/*' \
      -exec rm -rf {} + \
 && find /opt/venv -name '*.pyi' -delete

FROM ${BASE_IMAGE} AS runtime
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --gid 10001 nnserve \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin nnserve
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Code and models stay owned by root: the service user can read them, never change them.
COPY models/ ./models/

# NNSERVE_* are the service's settings (service/config.py); override any at run time.
# HOME=/tmp: the user has no home, the root filesystem may be read-only, and onnxruntime
# keeps a small state file under $HOME/.cache.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NNSERVE_HOST=0.0.0.0 \
    NNSERVE_PORT=8000 \
    NNSERVE_GRPC_PORT=8001 \
    NNSERVE_PROBE_PORT=8002 \
    NNSERVE_WORKERS=1 \
    NNSERVE_MODELS_DIR=/app/models \
    HOME=/tmp
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# 8000: REST; 8001: the Open Inference Protocol over gRPC; 8002: health and metrics only, from
# a process of their own (service/asgi/probes.py), for probes that must not wait behind a flood.
EXPOSE 8000 8001 8002
# The base image has no curl: ask readiness with the standard library, on the probe port
# (as the Kubernetes manifests do) unless NNSERVE_PROBE_PORT=0 turns it off.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; e = os.environ.get; p = e('NNSERVE_PROBE_PORT', '0'); u.urlopen('http://127.0.0.1:%s/v2/health/ready' % (p if p != '0' else e('NNSERVE_PORT', '8000')), timeout=4)"]
# Exec form: python is PID 1 and gets SIGTERM, so uvicorn drains in-flight requests.
CMD ["python", "-m", "service"]

LABEL org.opencontainers.image.title="nnserve" \
      org.opencontainers.image.description="ONNX models served over Open Inference Protocol V2 REST and gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
