# syntax=docker/dockerfile:1
# One image for all four Wegweiser services; the service is chosen by the command:
#   python -m wegweiser.intake | wegweiser.casework | wegweiser.referrals | wegweiser.statistics
# Build: docker build -t wegweiser:dev .   (docker-compose.yml does this for you)

ARG PYTHON_IMAGE=python:3.11-slim

# uv itself, pinned to the version the lock file was written with.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- build: a virtual environment with the workspace installed from uv.lock --------------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/wegweiser/venv
WORKDIR /src

# Third-party dependencies first: this layer is rebuilt only when the lock file or a pyproject changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/intake/pyproject.toml services/intake/
COPY services/casework/pyproject.toml services/casework/
COPY services/referrals/pyproject.toml services/referrals/
COPY services/statistics/pyproject.toml services/statistics/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --no-editable

# Then the workspace packages, installed as wheels (not editable), so the runtime needs no source tree.
COPY libs/ libs/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the environment only, run as an unprivileged user ---------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 wegweiser \
 && useradd --system --uid 10001 --gid wegweiser --home-dir /var/lib/wegweiser --create-home \
      --shell /usr/sbin/nologin wegweiser
COPY --from=build /opt/wegweiser/venv /opt/wegweiser/venv
ENV PATH=/opt/wegweiser/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/wegweiser
# The working directory is writable: the SQLite default (when no *_DATABASE_URL is set) lands here.
WORKDIR /var/lib/wegweiser
USER 10001:10001
EXPOSE 8001 8002 8003 8004
# No default service: docker-compose.yml and the Kubernetes Deployments set the command.
CMD ["python", "-c", "raise SystemExit('run python -m wegweiser.<intake|casework|referrals|statistics>')"]
