"""Read-only questions to a local engine on its unix socket, without the Docker SDK.

Reading the layers from the engine's storage (bench/engine/layerpaths.py) needs four answers
from the engine: who it is (its process), an image's layers and graph driver, its data root,
and its image store. Importing the Docker SDK (docker-py, requests, urllib3) to ask them costs
about 0.25 s of CPU and 18 MB of memory, more than the whole analysis of the 1 GB full
variant from storage; so these GETs go over the socket with the standard library's
http.client, here. Everything else, and anything that changes the engine, goes through
Engine (bench/engine/client.py), the SDK's seam.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bench.errors import BenchError
from bench.models import ImageStore, StoredImage

_TIMEOUT_SECONDS = 30


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=_TIMEOUT_SECONDS)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_TIMEOUT_SECONDS)
        sock.connect(self._path)
        self.sock = sock


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

    def _get(self, path: str) -> Any:
        connection = _UnixConnection(self._path)
        try:
            connection.request("GET", path, headers={"Host": "docker"})
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            raise BenchError(
                f"no Docker engine answers at {self.docker_host} ({error.strerror or error}); "
                "start one, or run `python -m bench lab up` for a private lab engine"
            ) from None
        finally:
            connection.close()
        if response.status == 404:
            return None
        if response.status != 200:
            text = " ".join(body.decode("utf-8", "replace").split())[:300]
            raise BenchError(f"Docker refused: {response.status} {text}")
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
