"""The smoke test asks from outside the container: an image without Python passes, an app
bound to 127.0.0.1 fails naming the fix (the sample app: tests/docker/test_variants.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.engine import labels
from bench.engine.client import Engine
from bench.manifest import HttpCheck, SmokeSpec
from bench.run.smoke import smoke_test
from tests.docker.conftest import images_built

pytestmark = pytest.mark.docker

RUN_ID = "smoke-outside"
# The final image is busybox (static) and files: no Python, no shell but busybox's, and a
# WORKDIR, as a distroless or Go image would have. httpd answers /health from a file and
# POST /cgi-bin/predict from a CGI script (busybox httpd runs CGI only under /cgi-bin).
DOCKERFILE = r"""FROM python:3.11-alpine AS tools
RUN mkdir -p /out/bin /out/app/cgi-bin \
 && cp /bin/busybox /out/bin/busybox && ln -s busybox /out/bin/sh \
 && echo '{"status": "ok"}' > /out/app/health \
 && printf '%s\n' '#!/bin/sh' \
      'printf "Content-Type: application/json\r\n\r\n"' \
      'echo "{\"label\": \"setosa\"}"' > /out/app/cgi-bin/predict \
 && chmod +x /out/app/cgi-bin/predict

FROM scratch
COPY --from=tools /out/ /
WORKDIR /app
ARG LISTEN=8000
ENV LISTEN=${LISTEN}
CMD ["/bin/sh", "-c", "exec /bin/busybox httpd -f -p \"$LISTEN\" -h /app"]
"""
SPEC = SmokeSpec(
    kind="http",
    checks=(
        HttpCheck(port=8000, path="/health", status=200),
        HttpCheck(port=8000, path="/cgi-bin/predict", body="{}", contains='"label": "setosa"'),
    ),
)


@pytest.fixture(scope="module")
def images(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Two tags of the busybox app: on all addresses, and on 127.0.0.1 only."""
    context = tmp_path_factory.mktemp("smoke-outside")
    (context / "Dockerfile").write_text(DOCKERFILE)
    builds = {
        name: (context, context / "Dockerfile", {"LISTEN": listen})
        for name, listen in (("all", "8000"), ("loopback", "127.0.0.1:8000"))
    }
    with images_built(engine, RUN_ID, builds) as built:
        yield built


def test_an_image_without_python_and_with_a_workdir_passes(
    engine: Engine, images: dict[str, str]
) -> None:
    facts = engine.image_facts(images["all"])
    assert facts.size_bytes < 5_000_000  # busybox and three small files: no interpreter
    result = smoke_test(
        engine, images["all"], labels.for_run(RUN_ID), SPEC, ready_timeout_seconds=20
    )
    assert result.ok, (result.reason, result.log_tail)
    assert result.reached_by == "netns"
    assert result.prediction == '{"label": "setosa"}'
    # busybox listens on [::] (dual-stack) or 0.0.0.0, whichever the namespace offers.
    assert set(result.listening) & {"[::]:8000", "0.0.0.0:8000"}, result.listening
    assert result.memory_bytes is not None and result.ready_seconds is not None


def test_an_app_bound_to_loopback_fails_with_the_fix(
    engine: Engine, images: dict[str, str]
) -> None:
    result = smoke_test(
        engine, images["loopback"], labels.for_run(RUN_ID), SPEC, ready_timeout_seconds=20
    )
    assert not result.ok
    assert result.listening == ("127.0.0.1:8000",)
    assert result.reason is not None
    assert "only on loopback (127.0.0.1:8000)" in result.reason
    assert "bind 0.0.0.0" in result.reason and "--host 0.0.0.0" in result.reason
