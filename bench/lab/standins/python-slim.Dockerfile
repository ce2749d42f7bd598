# Stand-in for python:X-slim: a slim Debian with only the interpreter, pip and venv.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ENV LANG=C.UTF-8
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
 # The official image carries CPython's C headers (a project that compiles an extension
 # after `apt-get install gcc` needs Python.h); Debian keeps them in libpython3.X-dev with a
 # static library the official image does not have: only the headers are taken.
 && version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
 && cd /tmp && apt-get download "libpython${version}-dev" \
 && dpkg-deb -x libpython"${version}"-dev_*.deb /tmp/dev \
 && cp -a /tmp/dev/usr/include/. /usr/include/ \
 && rm -rf /tmp/dev /tmp/*.deb /var/lib/apt/lists/* \
 # The official images let pip install into the interpreter; Debian marks it externally managed.
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && { [ -e /usr/bin/python ] || ln -s python3 /usr/bin/python; } \
 && { [ -e /usr/bin/pip ] || ln -s pip3 /usr/bin/pip; }
# pip in builds reaches PyPI through the lab's caching proxy on the host (builds use the host
# network): bench/lab/pypiproxy.py. Docker Hub's image has no /etc/pip.conf.
COPY pip.conf /etc/pip.conf
LABEL org.dockerfile-bench.pip-conf="/etc/pip.conf: index-url http://127.0.0.1:5081/index/, trusted-host 127.0.0.1"
CMD ["python3"]
