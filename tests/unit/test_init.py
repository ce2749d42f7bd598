"""Zero config: Dockerfiles found in several layouts, the guessed context and edit file, the
written variants.toml (which the manifest loader accepts), and `run --dockerfile`'s manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import manifest
from bench.cli import main
from bench.commands import init
from bench.context import discover
from bench.errors import BenchError

SERVICE = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
EXPOSE 9696
CMD ["python", "serve.py"]
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repo with a root service, an api with two Dockerfiles, a CLI copying from the root,
    and Dockerfiles that must not be found (dependencies, VCS, virtualenvs)."""
    return _write(
        tmp_path / "shop",
        {
            "Dockerfile": SERVICE,
            "serve.py": "print('serve')\n",
            "requirements.txt": "",
            "api/Dockerfile": "FROM python:3.11-slim\nCOPY app/ /srv/app/\n"
            'EXPOSE 8000 8001\nCMD ["uvicorn", "app.main:app", "--host", "127.0.0.1"]\n',
            "api/Dockerfile.dev": "FROM python:3.11-slim\nCOPY app/main.py app/util.py /srv/\n",
            "api/app/main.py": "app = None\n",
            "api/app/util.py": "",
            "tools/cli.Dockerfile": "FROM python:3.11-slim\nCOPY tools/cli.py /cli.py\n"
            'ENTRYPOINT ["python3", "/cli.py"]\n',
            "tools/cli.py": "print('hi')\n",
            "worker/dockerfile": "FROM python:3.11-slim\nCOPY --from=builder /x /x\n",
            "node_modules/pkg/Dockerfile": "FROM node\n",
            ".git/Dockerfile": "FROM scratch\n",
            ".venv/lib/Dockerfile": "FROM scratch\n",
            "api/Dockerfile.dockerignore": "*.pyc\n",
        },
    )


def test_dockerfiles_are_found_in_every_naming_and_dependency_folders_skipped(
    tree: Path,
) -> None:
    found = [path.relative_to(tree).as_posix() for path in discover.find_dockerfiles(tree)]
    assert found == [
        "Dockerfile",
        "api/Dockerfile",
        "api/Dockerfile.dev",
        "tools/cli.Dockerfile",
        "worker/dockerfile",
    ]


def test_names_come_from_folder_and_suffix(tree: Path) -> None:
    names = [discover.guess(path, root=tree).name for path in discover.find_dockerfiles(tree)]
    assert names == ["shop", "api", "api-dev", "tools-cli", "worker"]
    assert discover.unique_names(["api", "api", "web", "api"]) == ["api", "api-2", "web", "api-3"]
    assert discover.slug("My App_2!") == "my-app_2"


def test_the_context_is_the_folder_or_the_top_when_copies_exist_only_there(tree: Path) -> None:
    api = discover.guess(tree / "api" / "Dockerfile", root=tree)
    assert api.context == tree / "api" and api.notes[:-1] == ()
    cli = discover.guess(tree / "tools" / "cli.Dockerfile", root=tree)
    assert cli.context == tree
    assert "COPY names tools/cli.py" in cli.notes[0]
    assert cli.edit_file == "tools/cli.py"


def test_edit_file_is_the_last_source_file_copied_by_name(tree: Path) -> None:
    dev = discover.guess(tree / "api" / "Dockerfile.dev", root=tree)
    assert dev.edit_file == "app/util.py"
    assert "the last source file the Dockerfile copies" in dev.notes[-1]


def test_edit_file_skips_dependency_lists_for_an_entry_point(tree: Path) -> None:
    # COPY requirements.txt then COPY . .: editing requirements.txt is no code edit.
    root = discover.guess(tree / "Dockerfile", root=tree)
    assert root.edit_file == "serve.py"
    api = discover.guess(tree / "api" / "Dockerfile", root=tree)
    assert api.edit_file == "app/main.py"  # a likely entry point inside the copied folder


def test_entry_points_are_preferred_and_dockerignore_honoured(tmp_path: Path) -> None:
    project = _write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n",
            "a_helpers.py": "",
            "app.py": "",
            "main.py": "",
            ".dockerignore": "main.py\n",
        },
    )
    assert discover.guess(project / "Dockerfile").edit_file == "app.py"


def test_a_dockerfile_that_copies_nothing_edits_itself(tmp_path: Path) -> None:
    project = _write(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nRUN echo hi\n"})
    found = discover.guess(project / "Dockerfile")
    assert found.edit_file == "Dockerfile"
    assert "changes nothing a build uses" in found.notes[-1]


def test_final_stage_facts() -> None:
    facts = discover.read_facts(
        "FROM python:3.11 AS build\nEXPOSE 1\nCOPY --chown=1:1 a.py b/ /x/\n"
        'COPY --from=build /x /x\nADD https://example.org/f /f\nCOPY ["c d.py", "/y/"]\n'
        "FROM python:3.11-slim\nEXPOSE 8000/tcp 53/udp\nENTRYPOINT exec gunicorn -b :8000\n"
    )
    assert facts.sources == ("a.py", "b/", "c d.py")
    assert facts.exposed_ports == (8000,)
    assert facts.command == ("/bin/sh", "-c", "exec gunicorn -b :8000")


def _init(directory: Path, force: bool = False) -> int:
    return init.run(argparse.Namespace(directory=directory, force=force))


def test_init_writes_a_manifest_the_loader_accepts(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()}
    assert _init(tree) == 0
    loaded = manifest.load(tree / "variants.toml")
    by_name = {variant.name: variant for variant in loaded.variants}
    assert list(by_name) == ["shop", "api", "api-dev", "tools-cli", "worker"]
    assert by_name["shop"].smoke == manifest.SmokeSpec(
        kind="http", checks=(manifest.HttpCheck(port=9696, status="any"),)
    )
    assert [c.port for c in by_name["api"].smoke.checks] == [8000, 8001]
    assert by_name["tools-cli"].smoke == manifest.SmokeSpec()  # no EXPOSE: derived default
    assert by_name["tools-cli"].context == tree
    text = (tree / "variants.toml").read_text()
    assert "# Warning: its CMD/ENTRYPOINT binds loopback only (--host 127.0.0.1)" in text
    assert "# guess: context: the top folder, since COPY names tools/cli.py" in text
    # Nothing else in the tree changed.
    after = {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()}
    assert after.pop(tree / "variants.toml") and after == before
    assert "wrote" in capsys.readouterr().out


def test_init_refuses_to_overwrite_without_force(tree: Path) -> None:
    (tree / "variants.toml").write_text("# mine\n")
    with pytest.raises(BenchError, match=r"variants.toml exists; pass --force"):
        _init(tree)
    assert (tree / "variants.toml").read_text() == "# mine\n"
    assert _init(tree, force=True) == 0
    assert "[[variant]]" in (tree / "variants.toml").read_text()


def test_init_without_dockerfiles_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path)]) == 2
    assert "no Dockerfile under" in capsys.readouterr().err
    assert not (tmp_path / "variants.toml").exists()


def test_run_dockerfile_builds_a_manifest_in_memory(tree: Path) -> None:
    loaded = init.in_memory_manifest(
        [tree / "api" / "Dockerfile", tree / "tools" / "cli.Dockerfile"], [tree / "api"]
    )
    api, cli = loaded.variants
    assert (api.name, api.context, api.edit_file) == ("api", tree / "api", "app/main.py")
    # No --context for the second: its own folder, where tools/cli.py is not; any file then.
    assert (cli.name, cli.context, cli.edit_file) == ("cli", tree / "tools", "cli.py")
    assert api.smoke == manifest.SmokeSpec() and api.size_budget_bytes == 2_000_000_000
    assert not (tree / "variants.toml").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--dockerfile", "nope/Dockerfile"], "--dockerfile nope/Dockerfile: no such file"),
        (["run", "--context", "."], "--context goes with --dockerfile"),
        (["run", "--dockerfile", "Dockerfile", "--manifest", "x.toml"], "drop --manifest"),
    ],
)
def test_run_dockerfile_mistakes_are_one_line(
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tree)
    assert main(argv) == 2
    assert expected in capsys.readouterr().err
