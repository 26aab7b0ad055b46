# The team's MLflow tracking server (compose.yaml): MLflow and the PostgreSQL driver, at the versions
# pinned in requirements.txt (a template test keeps them in step).
ARG BASE_IMAGE=python:{{ cookiecutter.python_version }}-slim
FROM ${BASE_IMAGE}
RUN python3 -m pip install --no-cache-dir --disable-pip-version-check \
        "mlflow==3.17.2" "psycopg[binary]==3.3.9" \
    && useradd --system --uid 10001 --create-home mlflow \
    && mkdir /mlartifacts && chown mlflow /mlartifacts
USER 10001
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000"]
