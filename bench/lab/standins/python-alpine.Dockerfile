# Stand-in for python:X-alpine: Alpine-sized (busybox + interpreter + pip), but glibc, not
# musl, because no Alpine mirror is reachable. See the README for what this changes.
ARG BASE=debian:bookworm-slim
FROM ${BASE} AS gather
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      busybox-static python3 python3-pip python3-venv libstdc++6 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY alpine-gather.sh /usr/local/bin/alpine-gather.sh
RUN sh /usr/local/bin/alpine-gather.sh /out

FROM scratch
COPY --from=gather /out/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
# pip in builds reaches PyPI through the lab's caching proxy on the host (builds use the host
# network): bench/lab/pypiproxy.py. Docker Hub's image has no /etc/pip.conf.
COPY pip.conf /etc/pip.conf
LABEL org.dockerfile-bench.pip-conf="/etc/pip.conf: index-url http://127.0.0.1:5081/index/, trusted-host 127.0.0.1"
CMD ["python3"]
