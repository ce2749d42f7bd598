"""The only module that talks to Docker (through the Docker SDK for Python).

Nothing from docker-py leaves this module: callers get plain values and frozen records,
and every Docker failure becomes a BenchError or a failed outcome.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from bench.context.listing import context_upload
from bench.context.tar import ContextReadError
from bench.engine import httpbody, localapi
from bench.engine.buildlog import StepTracker
from bench.errors import BenchError
from bench.layers.history import instruction as _instruction
from bench.models import (
    BuildOutcome,
    EngineInfo,
    ImageConfig,
    ImageFacts,
    ImageStore,
    Layer,
    PullOutcome,
    StoredImage,
)

# Builds and pulls can be silent for minutes (pip resolving, a large layer extracting).
_API_TIMEOUT_SECONDS = 900
_CONNECTION_ERRORS = (
    docker.errors.DockerException,
    requests.exceptions.ConnectionError,
    # A stream cut mid-way (the engine died during a build or pull).
    urllib3.exceptions.HTTPError,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
    FileNotFoundError,
)


_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
# The address schemes of a Docker host (`DOCKER_HOST` syntax) that docker-py connects through.
DOCKER_HOST_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://", "http://", "https://")


def _check_unix_socket(docker_host: str) -> None:
    """Fail fast and cleanly on a dead unix socket (docker-py leaks a socket when it does)."""
    if not docker_host.startswith("unix://"):
        return
    path = docker_host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(path)
        except OSError as error:
            reason = (
                "no such socket"
                if isinstance(error, FileNotFoundError)
                else (error.strerror or str(error))
            )
            raise BenchError(
                f"no Docker engine answers at {docker_host} ({reason}); "
                "start one, or run `python -m bench lab up` for a private lab engine"
            ) from error


def _describe(host: str | None) -> str:
    return host or os.environ.get("DOCKER_HOST") or "the default Docker socket"


class Engine:
    """A connected Docker engine."""

    def __init__(self, docker_host: str | None = None, timeout_seconds: float = 10.0) -> None:
        self.docker_host = docker_host or os.environ.get("DOCKER_HOST") or ""
        _check_unix_socket(docker_host or os.environ.get("DOCKER_HOST") or _DEFAULT_SOCKET)
        client: docker.DockerClient | None = None
        try:
            if docker_host:
                client = docker.DockerClient(
                    base_url=docker_host,
                    timeout=_API_TIMEOUT_SECONDS,
                    # ssh:// through the user's own ssh (their keys, agent and ssh config),
                    # as the docker CLI does, rather than paramiko's reimplementation.
                    use_ssh_client=docker_host.startswith("ssh://"),
                )
            else:
                client = docker.from_env(timeout=_API_TIMEOUT_SECONDS)
            client.api.timeout = max(1, round(timeout_seconds))  # a short probe
            client.ping()
            client.api.timeout = _API_TIMEOUT_SECONDS
        except _CONNECTION_ERRORS as error:
            if client is not None:
                client.close()  # a half-made client holds a socket
            raise BenchError(
                f"no Docker engine answers at {_describe(docker_host)} ({_short(error)}); "
                "start one, or run `python -m bench lab up` for a private lab engine"
            ) from error
        self._docker = client
        self._api = client.api
        # Images committed by builds that were stopped before they ended (Ctrl-C, SIGTERM):
        # no label reaches them, and only this object saw their ids.
        self._abandoned: list[str] = []
        self._image_store: ImageStore | None = None

    @staticmethod
    def reachable(docker_host: str | None = None, timeout_seconds: float = 5.0) -> bool:
        try:
            Engine(docker_host, timeout_seconds=timeout_seconds).close()
        except BenchError:
            return False
        return True

    def close(self) -> None:
        self._docker.close()

    def info(self) -> EngineInfo:
        try:
            version = self._docker.version()
            info = self._docker.info()
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return EngineInfo(
            docker_host=self.docker_host or "default",
            server_version=str(version.get("Version", "unknown")),
            api_version=str(version.get("ApiVersion", "unknown")),
            storage_driver=str(info.get("Driver", "unknown")),
            operating_system=str(info.get("OperatingSystem", "unknown")),
            cpus=int(info.get("NCPU", 0)),
            image_store=image_store(info),
        )

    def image_store(self) -> ImageStore:
        """Where this engine keeps images (asked once: it cannot change while it runs)."""
        if self._image_store is None:
            try:
                self._image_store = image_store(self._docker.info())
            except _CONNECTION_ERRORS as error:
                raise _lost(error) from error
        return self._image_store

    def driver_status(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """/info's Driver and DriverStatus, as the engine words them (for `lab status`)."""
        try:
            info = self._docker.info()
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        status = tuple(
            (str(pair[0]), str(pair[1]))
            for pair in info.get("DriverStatus") or ()
            if isinstance(pair, list | tuple) and len(pair) == 2
        )
        return str(info.get("Driver", "unknown")), status

    def builder_version(self) -> str:
        """/_ping's Builder-Version: the builder a plain `docker build` gets ("1" classic,
        "2" BuildKit); empty when the engine does not say."""
        try:
            response = self._api.get(f"{self._api.base_url}/_ping", timeout=10)
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return str(response.headers.get("Builder-Version", ""))

    # Images -----------------------------------------------------------------------------

    def image_id(self, reference: str) -> str | None:
        try:
            return str(self._api.inspect_image(reference)["Id"])
        except docker.errors.ImageNotFound:
            return None
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def image_facts(self, reference: str) -> ImageFacts:
        try:
            inspected = self._api.inspect_image(reference)
            history = self._api.history(reference)
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        labels = (inspected.get("Config") or {}).get("Labels") or {}
        # History is newest first; layers read better oldest first, as the Dockerfile does.
        layers = tuple(
            Layer(
                instruction=_instruction(str(entry.get("CreatedBy", ""))),
                size_bytes=int(entry.get("Size", 0)),
                created_by=str(entry.get("CreatedBy", "")),
            )
            for entry in reversed(history)
        )
        engine_size = int(inspected.get("Size", 0))
        if self.image_store() == "containerd":
            # Size counts the stored content (compressed blobs); the history's layer sizes
            # are the unpacked snapshots (the layer analysis gives the exact sum later).
            return ImageFacts(
                image_id=str(inspected["Id"]),
                size_bytes=sum(layer.size_bytes for layer in layers),
                layers=layers,
                labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
                engine_size_bytes=engine_size,
                engine_size_kind="content",
            )
        return ImageFacts(
            image_id=str(inspected["Id"]),
            size_bytes=engine_size,
            layers=layers,
            labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
            engine_size_bytes=engine_size,
        )

    def image_config(self, reference: str) -> ImageConfig:
        """What the image runs by default: exposed TCP ports, entrypoint, cmd, env, workdir."""
        try:
            inspected = self._api.inspect_image(reference)
        except docker.errors.ImageNotFound as error:
            raise BenchError(f"no image {reference} on the engine") from error
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return image_config(inspected.get("Config") or {})

    def image_labels(self, reference: str) -> dict[str, str]:
        try:
            inspected = self._api.inspect_image(reference)
        except docker.errors.ImageNotFound:
            return {}
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return dict((inspected.get("Config") or {}).get("Labels") or {})

    def pull(self, reference: str) -> PullOutcome:
        was_present = self.image_id(reference) is not None
        repository, _, tag = reference.rpartition(":")
        if not repository or "/" in tag:
            repository, tag = reference, "latest"
        started = time.perf_counter()
        try:
            for event in self._api.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    return PullOutcome(
                        reference,
                        False,
                        time.perf_counter() - started,
                        was_present,
                        error=str(event["error"]).strip(),
                    )
        except docker.errors.APIError as error:
            return PullOutcome(
                reference, False, time.perf_counter() - started, was_present, _short(error)
            )
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return PullOutcome(reference, True, time.perf_counter() - started, was_present)

    def push(self, reference: str) -> None:
        repository, _, tag = reference.rpartition(":")
        try:
            for event in self._api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise BenchError(f"push of {reference} failed: {event['error']}")
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def tag(self, source: str, target: str) -> None:
        repository, _, tag = target.rpartition(":")
        try:
            self._api.tag(source, repository, tag)
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def images_with_label(self, label: str) -> list[str]:
        """Ids of the images that carry `label` (as key or key=value)."""
        try:
            return [str(i["Id"]) for i in self._api.images(filters={"label": label})]
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def remove_image(self, reference: str) -> bool:
        try:
            self._api.remove_image(reference, force=False, noprune=False)
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError:
            # In use by a container or by a child image of ours being removed later:
            # leaving it is safer than forcing.
            return False
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return True

    def build_cache_ids(self) -> set[str]:
        """Ids of BuildKit's cache records (the classic builder's cache is images)."""
        try:
            usage = self._api.df()
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return {str(record["ID"]) for record in usage.get("BuildCache") or []}

    def prune_build_cache(self, ids: set[str]) -> None:
        """Remove exactly these BuildKit cache records (one call each: the engine's filter
        takes a single id), children before parents, over a few passes."""
        remaining = set(ids)
        for _ in range(5):
            for record_id in sorted(remaining):
                try:
                    # all=True: without it BuildKit keeps the records of a build's local
                    # sources (the context, the Dockerfile), which only that build made.
                    self._api.prune_builds(
                        filters={"id": record_id},  # type: ignore[arg-type]
                        all=True,
                    )
                except docker.errors.APIError:
                    continue  # in use, or a parent whose child goes first: next pass
                except _CONNECTION_ERRORS as error:
                    raise _lost(error) from error
            left = remaining & self.build_cache_ids()
            if not left or left == remaining:
                return
            remaining = left

    # Builds -----------------------------------------------------------------------------

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        buildargs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        network_mode: str | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome:
        """Build with the classic builder; the outcome carries per-step timings."""
        started = time.perf_counter()
        tracker = StepTracker(started)
        try:
            context, dockerfile_name = context_upload(context_dir, dockerfile)
        except OSError as error:
            tracker.error = f"cannot read the build context: {error}"
        else:
            request = {
                "fileobj": context,
                "custom_context": True,
                "dockerfile": dockerfile_name,
                "tag": tag,
                "nocache": nocache,
                "rm": True,
                "forcerm": True,
                "pull": False,
                "decode": True,
                "buildargs": dict(buildargs or {}),
                "labels": dict(labels or {}),
                "network_mode": network_mode,
            }
            self._follow_build(request, tracker, on_step)
        finished = time.perf_counter()
        steps = tracker.finish(finished)
        ok = tracker.error is None and tracker.image_id is not None
        return BuildOutcome(
            ok=ok,
            duration_seconds=finished - started,
            steps=steps,
            image_id=tracker.image_id if ok else None,
            error=None if ok else (tracker.error or "the build produced no image"),
            log_tail=tracker.log_tail,
            unreachable_images=tracker.unreachable_images(
                ok, every_step=self.image_store() == "containerd"
            ),
        )

    def _follow_build(
        self,
        request: dict[str, Any],
        tracker: StepTracker,
        on_step: Callable[[str], None] | None,
    ) -> None:
        try:
            stream: Iterator[dict[str, Any]] = self._api.build(**request)
            # Taken now: an interrupt raised inside the generator ends it, frame and all.
            response = _response_of(stream)
            try:
                for event in stream:
                    before = tracker.current_instruction
                    tracker.feed(event, time.perf_counter())
                    if on_step and tracker.current_instruction != before:
                        on_step(tracker.current_instruction or "")
            except BaseException:
                self._abandon(response, tracker)
                raise
        except ContextReadError as error:
            tracker.error = str(error)  # the user's file, read while it was being sent
        except docker.errors.APIError as error:
            tracker.error = _short(error)
        except docker.errors.DockerException as error:
            tracker.error = _short(error)  # e.g. an invalid tag: this build fails, not the run
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def _abandon(self, response: Any, tracker: StepTracker) -> None:
        """Stop the engine's side of a build we stopped following, and note what it left.

        The engine goes on building while the connection is open, and a build interrupted
        by Ctrl-C would otherwise finish after the run's cleanup: a labelled image nobody
        deletes. Closing the connection makes the engine cancel at the next step and kill
        the running one; its container (ours: named in our build's output) is removed here
        as well, so the images the build committed can be deleted right away.
        """
        # Nothing here may hide the interrupt that brought us here.
        if response is not None:
            with contextlib.suppress(Exception):
                response.close()
        if tracker.running_container is not None:
            with contextlib.suppress(Exception):  # gone already, or the engine is lost
                self._api.remove_container(tracker.running_container, force=True, v=True)
        for image_id in tracker.unreachable_images(False):
            if image_id not in self._abandoned:
                self._abandoned.append(image_id)

    def abandoned_images(self) -> tuple[str, ...]:
        """Images committed by builds that were stopped before they ended."""
        return tuple(self._abandoned)

    # Containers -------------------------------------------------------------------------

    def start_container(
        self,
        image: str,
        labels: Mapping[str, str],
        network_mode: str = "none",
        publish_ports: Sequence[int] = (),
        command: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> str:
        """Start `image`; each of `publish_ports` (TCP) goes to a free port on the host's
        127.0.0.1.

        `command` replaces the image's CMD (its ENTRYPOINT stays); `environment` adds to its ENV.
        """
        # Loopback only: a smoke-tested app is never offered to the host's other networks.
        bindings: dict[int | str, Any] | None = (
            dict.fromkeys(publish_ports, ("127.0.0.1", None)) or None
        )
        try:
            container = self._api.create_container(
                image,
                command=list(command) if command is not None else None,
                environment=dict(environment) if environment else None,
                labels=dict(labels),
                ports=list(publish_ports) or None,
                host_config=self._api.create_host_config(
                    network_mode=network_mode, port_bindings=bindings
                ),
            )
            container_id = str(container["Id"])
            self._api.start(container_id)
        except docker.errors.APIError as error:
            raise BenchError(f"could not start a container of {image}: {_short(error)}") from error
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return container_id

    def container_state(self, container_id: str) -> tuple[bool, int | None]:
        """(running, exit code if it has exited)."""
        try:
            state = self._api.inspect_container(container_id)["State"]
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        running = bool(state.get("Running"))
        return running, None if running else int(state.get("ExitCode", -1))

    def container_pid(self, container_id: str) -> int | None:
        """The main process's pid as the engine's host sees it; None once it has stopped."""
        try:
            state = self._api.inspect_container(container_id)["State"]
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        pid = int(state.get("Pid") or 0)
        return pid if pid > 0 else None

    def published_port(self, container_id: str, port: int) -> int | None:
        """The host port the engine gave the container's TCP `port`; None if unpublished."""
        try:
            inspected = self._api.inspect_container(container_id)
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        ports = (inspected.get("NetworkSettings") or {}).get("Ports") or {}
        for binding in ports.get(f"{port}/tcp") or []:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
        return None

    def has_bridge_network(self) -> bool:
        """Whether the engine has its default `bridge` network (a lab engine has none)."""
        try:
            networks = self._api.networks(names=["bridge"])
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        # The engine matches names by substring: `my-bridge-net` is not the default network.
        return any(network.get("Name") == "bridge" for network in networks)

    def container_logs(self, container_id: str, tail: int = 20) -> tuple[str, ...]:
        try:
            raw = self._api.logs(container_id, tail=tail)
        except docker.errors.APIError:
            return ()
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return tuple(raw.decode(errors="replace").splitlines())

    def container_memory_bytes(self, container_id: str) -> int | None:
        try:
            # one_shot: memory needs one sample; without it the engine waits for a second
            # one (for CPU percentages), about a second per smoke test, all of it overhead.
            stats = self._api.stats(container_id, stream=False, one_shot=True)
        except docker.errors.InvalidVersion:  # API < 1.41 has no one-shot stats
            try:
                stats = self._api.stats(container_id, stream=False)
            except (docker.errors.APIError, *_CONNECTION_ERRORS):
                return None
        except (docker.errors.APIError, *_CONNECTION_ERRORS):
            return None
        memory = stats.get("memory_stats") or {}
        usage = memory.get("usage")
        if usage is None:
            return None
        # Like `docker stats`: page cache that can be reclaimed is not the app's memory.
        cache = (memory.get("stats") or {}).get("total_inactive_file") or (
            memory.get("stats") or {}
        ).get("inactive_file", 0)
        return int(usage) - int(cache or 0)

    def remove_container(self, container_id: str) -> None:
        try:
            self._api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            return
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error

    def containers_with_label(self, label: str) -> list[str]:
        try:
            found = self._api.containers(all=True, filters={"label": label})
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return [str(c["Id"]) for c in found]

    def import_tar(self, chunks: Iterable[bytes], reference: str, labels: Mapping[str, str]) -> str:
        """`docker import` of a tar sent as it is made (never held whole); the image id."""
        repository, _, tag = reference.rpartition(":")
        changes = [f"LABEL {key}={value}" for key, value in sorted(labels.items())]
        try:
            result = self._api.import_image(
                src=iter(chunks),
                repository=repository,
                tag=tag,
                changes=changes,
                stream_src=True,
            )
        except docker.errors.APIError as error:
            raise BenchError(f"import of {reference} failed: {_short(error)}") from error
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        image_id = self.image_id(reference)
        if image_id is None:
            raise BenchError(f"import of {reference} made no image: {str(result)[:300]}")
        return image_id

    def save(self, reference: str) -> Generator[bytes | memoryview, None, None]:
        """`docker save` as a stream of chunks: the image is never held in memory."""
        try:
            # What docker-py's get_image does, but its generator yields the engine's 32 KiB
            # HTTP chunks one by one through urllib3 (~1 s of CPU per GB); the body is read
            # from the socket instead (bench/engine/httpbody.py). `Connection: close` makes the
            # end of the body the end of the connection.
            api: Any = self._api
            # Not over ssh://: `docker system dial-stdio` ends the stream early when asked
            # to close (IncompleteRead), and that body is read through http.client anyway.
            over_ssh = self.docker_host.startswith("ssh://")
            response = api._get(
                api._url("/images/{0}/get", reference),
                stream=True,
                headers={} if over_ssh else {"Connection": "close"},
            )
            api._raise_for_status(response)
            with response:
                yield from _body(response)
        except docker.errors.NotFound as error:
            raise BenchError(f"no image {reference} on the engine") from error
        except (*_CONNECTION_ERRORS, EOFError) as error:
            raise _lost(error) from error

    def diff_ids(self, reference: str) -> tuple[str, ...] | None:
        """The image's layer digests (RootFS.Layers), bottom first; None if there is none."""
        try:
            inspected = self._api.inspect_image(reference)
        except docker.errors.ImageNotFound:
            return None
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return tuple(str(layer) for layer in (inspected.get("RootFS") or {}).get("Layers") or [])

    def stored_image(self, reference: str) -> StoredImage | None:
        """Where the engine keeps `reference`: its id, layers, graph driver and data root,
        as the engine's own file system names them; None if there is no such image."""
        try:
            inspected = self._api.inspect_image(reference)
            info = self._docker.info()
        except docker.errors.ImageNotFound:
            return None
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return localapi.stored_image(inspected, info)

    def daemon_pid(self) -> int | None:
        """The engine's process id, from the kernel (SO_PEERCRED) on a local unix socket;
        None for any other connection (TCP, ssh: a remote engine)."""
        return localapi.peer_pid(self.docker_host or _DEFAULT_SOCKET)

    def tagged_images(self) -> list[str]:
        """Every repository:tag on the engine."""
        try:
            images = self._api.images()
        except _CONNECTION_ERRORS as error:
            raise _lost(error) from error
        return sorted(
            str(tag)
            for image in images
            for tag in image.get("RepoTags") or []
            if tag != "<none>:<none>"
        )


def _body(response: Any) -> Iterator[bytes | memoryview]:
    """A streamed response's body; straight from its socket where docker-py's stack
    (requests, urllib3, http.client) allows, through http.client otherwise (TLS, ssh)."""
    message = getattr(response.raw, "_fp", None)  # http.client.HTTPResponse
    buffered: Any = getattr(message, "fp", None)  # its buffered socket file
    sock = getattr(getattr(buffered, "raw", None), "_sock", None)  # as docker-py finds it
    # Only a plain socket: TLS has its own framing, and docker-py's ssh:// socket is a
    # subclass whose recv() reads an ssh process's output (it takes no flags).
    if message is None or type(sock) is not socket.socket:
        source = message or response.raw
        while chunk := source.read(1 << 20):
            yield chunk
        return
    # The headers were read through the buffer, which may already hold some of the body.
    head = buffered.read1(len(buffered.peek()))
    blocks = httpbody.socket_blocks(sock, head)
    if message.chunked:
        yield from httpbody.dechunked(blocks)
    elif message.length is not None:
        yield from httpbody.limited(blocks, message.length)
    else:
        yield from blocks


def _response_of(stream: Iterator[Any]) -> Any:
    """The HTTP response behind docker-py's build stream: the generator's argument, which
    docker-py gives no other way to reach (None if its shape ever changes)."""
    frame = getattr(stream, "gi_frame", None)
    response = frame.f_locals.get("response") if frame is not None else None
    return response if callable(getattr(response, "close", None)) else None


def image_config(config: Mapping[str, Any]) -> ImageConfig:
    """An image's Config as plain values; only TCP ports count as exposed (HTTP is TCP)."""
    ports: list[int] = []
    for key in config.get("ExposedPorts") or {}:
        number, _, protocol = str(key).partition("/")
        if (protocol or "tcp") == "tcp" and number.isdigit():
            ports.append(int(number))
    return ImageConfig(
        exposed_tcp_ports=tuple(sorted(set(ports))),
        entrypoint=tuple(str(part) for part in config.get("Entrypoint") or ()),
        cmd=tuple(str(part) for part in config.get("Cmd") or ()),
        env=tuple(str(line) for line in config.get("Env") or ()),
        working_dir=str(config.get("WorkingDir") or ""),
    )


image_store = localapi.image_store  # used where /info is at hand


def _short(error: BaseException) -> str:
    explanation = getattr(error, "explanation", None)
    text = str(explanation or error)
    return " ".join(text.split())[:500]


def _lost(error: BaseException) -> BenchError:
    if isinstance(error, docker.errors.DockerException):
        # The engine answered, and said no: not a lost connection.
        return BenchError(f"Docker refused: {_short(error)}")
    return BenchError(f"lost the Docker engine: {_short(error)}")
