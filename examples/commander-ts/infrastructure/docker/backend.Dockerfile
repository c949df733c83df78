# The backend image, built from the backend/ context (commander.ai layout:
# Dockerfiles under infrastructure/docker/).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
WORKDIR /srv
COPY app ./app
ENV PORT=8000
EXPOSE 8000
CMD ["python", "-m", "app.main"]
