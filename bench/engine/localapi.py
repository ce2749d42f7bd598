"""Read-only questions to a local engine on its unix socket, without the Docker SDK.

Reading the layers from the engine's storage (bench/engine/layerpaths.py) needs four answers
from the engine: who it is (its process), an image's layers and graph driver, its data root,
and its image store. Importing the Docker SDK (docker-py, requests, urllib3) to ask them costs
about 0.25 s of CPU and 18 MB of memory, more than the whole analysis of the 1 GB full
variant from storage; so these GETs go over the socket here, by hand. Everything else,
and anything that changes the engine, goes through
Engine (bench/engine/client.py), the SDK's seam.
"""

from __future__ import annotations

import json
import socket
import struct
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bench.errors import BenchError
from bench.models import ImageStore, StoredImage

_TIMEOUT_SECONDS = 30


def _get(path: str, target: str) -> tuple[int, bytes]:
    """(status, body) of `GET target` on the unix socket at `path`.

    HTTP/1.0, so the engine answers with the whole body and closes (never chunked): a
    dozen lines instead of http.client, whose import (its e-mail parser) alone costs more
    memory than this module saves by skipping the SDK's.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(_TIMEOUT_SECONDS)
        connection.connect(path)
        connection.sendall(f"GET {target} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        parts = []
        while data := connection.recv(1 << 16):
            parts.append(data)
    head, _, body = b"".join(parts).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError(f"not an HTTP answer: {head[:80]!r}")
    return int(status_line[1]), body


def socket_path(docker_host: str) -> str | None:
    """The socket of a `unix://` DOCKER_HOST; None for any other (TCP, ssh: remote)."""
    return docker_host.removeprefix("unix://") if docker_host.startswith("unix://") else None


def peer_pid(docker_host: str) -> int | None:
    """The engine's process id, from the kernel (SO_PEERCRED) on a local unix socket."""
    path = socket_path(docker_host)
    if path is None:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(path)
            credentials = probe.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
            )
        except OSError:
            return None
    pid, _uid, _gid = struct.unpack("3i", credentials)
    return pid if pid > 0 else None


def image_store(info: Mapping[str, Any]) -> ImageStore:
    """The image store an engine's /info describes: containerd's snapshotters announce
    themselves in DriverStatus (`driver-type io.containerd.snapshotter.v1`)."""
    for entry in info.get("DriverStatus") or []:
        if len(entry) == 2 and entry[0] == "driver-type" and "containerd" in str(entry[1]):
            return "containerd"
    return "graphdriver"


def stored_image(inspected: Mapping[str, Any], info: Mapping[str, Any]) -> StoredImage:
    """Where the engine keeps an image, from its inspect and the engine's /info."""
    driver = inspected.get("GraphDriver") or {}
    layers = (inspected.get("RootFS") or {}).get("Layers") or []
    return StoredImage(
        image_id=str(inspected["Id"]),
        diff_ids=tuple(str(layer) for layer in layers),
        driver=str(driver.get("Name") or ""),
        driver_data=tuple(
            sorted((str(key), str(value)) for key, value in (driver.get("Data") or {}).items())
        ),
        root_dir=str(info.get("DockerRootDir") or ""),
        image_store=image_store(info),
    )


class LocalEngine:
    """A local engine asked over its unix socket; `connect` gives None for any other."""

    def __init__(self, docker_host: str, path: str) -> None:
        self.docker_host = docker_host
        self._path = path
        self._info: dict[str, Any] | None = None

    @classmethod
    def connect(cls, docker_host: str) -> LocalEngine | None:
        path = socket_path(docker_host)
        return None if path is None else cls(docker_host, path)

    def close(self) -> None:
        """Nothing is held between questions (each is its own connection)."""

    def _get(self, target: str) -> Any:
        try:
            status, body = _get(self._path, target)
        except OSError as error:
            raise BenchError(
                f"no Docker engine answers at {self.docker_host} ({error.strerror or error}); "
                "start one, or run `python -m bench lab up` for a private lab engine"
            ) from None
        if status == 404:
            return None
        if status != 200:
            text = " ".join(body.decode("utf-8", "replace").split())[:300]
            raise BenchError(f"Docker refused: {status} {text}")
        return json.loads(body)

    def _image(self, reference: str) -> dict[str, Any] | None:
        found = self._get(f"/images/{urllib.parse.quote(reference, safe='/:@')}/json")
        return found if isinstance(found, dict) else None

    def info(self) -> dict[str, Any]:
        if self._info is None:
            answer = self._get("/info")
            self._info = answer if isinstance(answer, dict) else {}
        return self._info

    def diff_ids(self, reference: str) -> tuple[str, ...] | None:
        """The image's layer digests, bottom first; None if there is no such image."""
        inspected = self._image(reference)
        if inspected is None:
            return None
        return tuple(str(layer) for layer in (inspected.get("RootFS") or {}).get("Layers") or [])

    def stored_image(self, reference: str) -> StoredImage | None:
        inspected = self._image(reference)
        return None if inspected is None else stored_image(inspected, self.info())

    def daemon_pid(self) -> int | None:
        return peer_pid(self.docker_host)

    def tagged_images(self) -> list[str]:
        """Every repository:tag on the engine."""
        images = self._get("/images/json") or []
        return sorted(
            str(tag)
            for image in images
            for tag in image.get("RepoTags") or []
            if tag != "<none>:<none>"
        )
