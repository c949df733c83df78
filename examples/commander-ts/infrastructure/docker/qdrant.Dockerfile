# A Qdrant stand-in: answers /healthz on 6333 like Qdrant does.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends busybox \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /srv && echo ok > /srv/healthz
EXPOSE 6333
CMD ["busybox", "httpd", "-f", "-p", "6333", "-h", "/srv"]
