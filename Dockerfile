# One image for every synthmarket service; compose.yaml picks the service with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY synthmarket/ synthmarket/
COPY synthmarket_cli/ synthmarket_cli/
COPY regime_svc/ regime_svc/
COPY options_svc/ options_svc/
COPY equities_svc/ equities_svc/
COPY flow_svc/ flow_svc/
COPY admin_gateway/ admin_gateway/
COPY webui/ webui/
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app synthmarket

USER synthmarket

# Inside a container every server listens on all interfaces; compose sets the peers' addresses.
ENV GATEWAY_HOST=0.0.0.0 \
    WEBUI_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0

# Without a command the image runs the whole stack in one container (embedded NATS included).
CMD ["synthmarket", "up"]
