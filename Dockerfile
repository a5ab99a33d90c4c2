# didit-mock: a local, stateful emulator of the Didit identity-verification API.
#
#   docker build -t didit-mock .
#   docker run --rm -p 8790:8790 didit-mock
#   docker run --rm -p 8790:8790 -v "$PWD/scenarios/happy-path-kyc.yaml:/scenarios/happy-path-kyc.yaml:ro" -e DIDIT_MOCK_SEED=7 didit-mock
#
# Configure it with the same DIDIT_MOCK_* variables as `didit-mock serve` (or append serve flags
# to `docker run ... didit-mock`). Scenario files mounted at /scenarios are loaded at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DIDIT_MOCK_PORT=8790 \
    DIDIT_MOCK_SCENARIOS=/scenarios

WORKDIR /tmp/didit-mock-src
COPY pyproject.toml ./
# Dependencies come from pyproject.toml, in a layer of their own: a change of the sources alone
# rebuilds from the next step, without downloading them again.
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); \
print('\n'.join(p['project']['dependencies'] + p['build-system']['requires']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY README.md ./
COPY didit_mock ./didit_mock
# The package itself; the sources are removed once installed.
RUN pip install --no-cache-dir . --no-deps --no-build-isolation \
    && rm -rf /tmp/didit-mock-src \
    && groupadd --system --gid 10001 didit \
    && useradd --system --uid 10001 --gid didit --no-create-home --shell /usr/sbin/nologin didit \
    && mkdir -p /scenarios /data \
    && chown didit:didit /data

# /data is the writable working directory (e.g. DIDIT_MOCK_STATE_FILE=/data/state.json).
WORKDIR /data
# The unprivileged `didit` user (numeric, so Kubernetes' runAsNonRoot can check it).
USER 10001:10001
EXPOSE 8790

HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/system/healthcheck' % os.environ.get('DIDIT_MOCK_PORT', '8790'), timeout=2)"]

ENTRYPOINT ["didit-mock", "serve", "--host", "0.0.0.0"]
CMD []
