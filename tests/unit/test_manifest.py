"""variants.toml: the repo's manifest loads; each kind of mistake is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import manifest
from bench.dependencies import DependencyOverride
from bench.errors import BenchError

GOOD = """schema = 1
[[variant]]
name = "slim"
dockerfile = "Dockerfile"
context = "app"
description = "one line"
edit_file = "main.py"
size_budget = "500 MB"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    (tmp_path / "app" / "requirements.txt").write_text("idna==3.20\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "variants.toml").write_text(GOOD)
    return tmp_path


def _error(project: Path, text: str) -> str:
    (project / "variants.toml").write_text(text)
    with pytest.raises(BenchError) as caught:
        manifest.load(project / "variants.toml")
    return caught.value.message


def test_the_repos_manifest_has_the_five_variants() -> None:
    loaded = manifest.load()
    assert [v.name for v in loaded.variants] == ["full", "slim", "alpine", "multistage", "naive"]
    assert [v.name for v in loaded.variants if v.deps_rerun_on_edit] == ["naive"]
    assert all(v.requirements and v.requirements.is_file() for v in loaded.variants)


def test_a_good_manifest_loads(project: Path) -> None:
    loaded = manifest.load(project / "variants.toml")
    (variant,) = loaded.variants
    assert variant.size_budget_bytes == 500_000_000
    assert variant.requirements == project / "app" / "requirements.txt"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="manifest not found"):
        manifest.load(tmp_path / "nope.toml")


def test_syntax_error_shows_line_and_column(project: Path) -> None:
    message = _error(project, GOOD.replace('name = "slim"', 'name = "slim'))
    assert "TOML syntax error" in message and "line 3" in message and "column" in message


def test_missing_field_names_file_variant_and_field(project: Path) -> None:
    message = _error(project, GOOD.replace('edit_file = "main.py"\n', ""))
    assert message == f"{project / 'variants.toml'}: variant 'slim': field 'edit_file': missing"


def test_unknown_field(project: Path) -> None:
    message = _error(project, GOOD + 'colour = "blue"\n')
    assert "variant 'slim': field 'colour': unknown field" in message


def test_missing_dockerfile(project: Path) -> None:
    message = _error(project, GOOD.replace('"Dockerfile"', '"Nope"'))
    assert "field 'dockerfile'" in message and "does not exist" in message


def test_duplicate_names(project: Path) -> None:
    message = _error(project, GOOD + GOOD.split("\n", 1)[1])
    assert message.endswith("variant 'slim': duplicate name")


def test_unparsable_budget(project: Path) -> None:
    message = _error(project, GOOD.replace('"500 MB"', '"lots"'))
    assert "field 'size_budget'" in message and "expected a size like '500 MB'" in message


def test_unknown_variant_on_the_command_line(project: Path) -> None:
    loaded = manifest.load(project / "variants.toml")
    with pytest.raises(BenchError, match=r"unknown variant fat in .*; known: slim"):
        loaded.select(["fat"])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("min_efficiency = 1.5", "field 'min_efficiency': expected a value between 0 and 1"),
        ("min_efficiency = 'high'", "field 'min_efficiency': expected a number"),
        ("max_wasted_share = -0.1", "field 'max_wasted_share': expected a value between 0 and 1"),
        ("max_wasted_bytes = 'lots'", "field 'max_wasted_bytes': expected a size like"),
        ("max_layers = 0", "field 'max_layers': expected a value of at least 1"),
        ("min_eficiency = 0.9", "field 'min_eficiency': unknown field"),
    ],
)
def test_layer_rules_reject_bad_values(project: Path, line: str, expected: str) -> None:
    assert expected in _error(project, GOOD + line + "\n")


def test_layer_rules_load(project: Path) -> None:
    (project / "variants.toml").write_text(
        GOOD
        + "max_layers = 12\nmin_efficiency = 0.95\nmax_wasted_bytes = '20 MB'\n"
        + "max_wasted_share = 0.1\n"
    )
    (variant,) = manifest.load(project / "variants.toml").variants
    assert variant.rules == manifest.LayerRules(12, 0.95, 20_000_000, 0.1)


def test_dependency_steps_load(project: Path) -> None:
    (project / "variants.toml").write_text(
        GOOD
        + "[variant.dependency_steps]\ninstalls = ['make deps']\n"
        + "not_installs = ['pip install --no-deps .']\n"
    )
    (variant,) = manifest.load(project / "variants.toml").variants
    assert variant.dependency_override == DependencyOverride(
        installs=("make deps",), not_installs=("pip install --no-deps .",)
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("installs = 'make deps'", "field 'dependency_steps.installs': expected a list"),
        ("installs = ['']", "field 'dependency_steps.installs': expected a list"),
        ("instals = ['x']", "field 'dependency_steps.instals': unknown field"),
    ],
)
def test_dependency_steps_mistakes_are_named(project: Path, table: str, expected: str) -> None:
    assert expected in _error(project, GOOD + "[variant.dependency_steps]\n" + table + "\n")


# [variant.smoke] ------------------------------------------------------------------------------


def test_the_repos_manifest_states_the_sample_apps_check() -> None:
    for variant in manifest.load().variants:
        health, predict = variant.smoke.checks
        assert variant.smoke.kind == "http"
        assert (health.port, health.path, health.status) == (8000, "/health", 200)
        assert (predict.verb, predict.path, predict.contains) == (
            "POST",
            "/predict",
            '"label":"setosa"',
        )


def test_without_a_smoke_section_the_check_is_derived(project: Path) -> None:
    (variant,) = manifest.load(project / "variants.toml").variants
    assert variant.smoke == manifest.SmokeSpec()


def _smoke(project: Path, section: str) -> manifest.SmokeSpec:
    (project / "variants.toml").write_text(GOOD + "[variant.smoke]\n" + section)
    (variant,) = manifest.load(project / "variants.toml").variants
    return variant.smoke


def test_each_smoke_kind_loads(project: Path) -> None:
    assert _smoke(project, 'kind = "http"\nport = 9696\nstatus = "any"\n').checks == (
        manifest.HttpCheck(port=9696, status="any"),
    )
    command = _smoke(project, 'kind = "command"\nargs = ["--help"]\nexit_code = 0\noutput = "x"\n')
    assert (command.args, command.exit_code, command.output) == (("--help",), 0, "x")
    assert _smoke(project, 'kind = "stays-up"\nseconds = 3\n').seconds == 3.0
    assert _smoke(project, 'kind = "none"\nreason = "needs a GPU"\n').reason == "needs a GPU"


def test_env_file_then_env(project: Path) -> None:
    (project / "smoke.env").write_text("# settings\nA=from-file\nB=2\n")
    spec = _smoke(project, 'env_file = "smoke.env"\nenv = { A = "table", PORT = 9 }\n')
    assert spec.kind is None
    assert dict(spec.env) == {"A": "table", "B": "2", "PORT": "9"}


PREFIX = "variant 'slim': field "


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('kind = "grpc"\n', "'smoke.kind': expected one of http, command, stays-up, none"),
        ('kind = "http"\n', "'smoke.port': missing"),
        ('kind = "http"\nport = 0\n', "'smoke.port': expected a port number (1-65535)"),
        ('kind = "http"\nport = 80\npath = "health"\n', "'smoke.path': expected a path"),
        ('kind = "http"\nport = 80\nstatus = 999\n', "'smoke.status': expected an HTTP status"),
        ('kind = "http"\nport = 80\nmethod = "FETCH"\n', "'smoke.method': expected one of GET"),
        ('kind = "http"\nport = 80\nargs = []\n', "'smoke.args': unknown field for kind 'http'"),
        ('kind = "http"\nchecks = [{ path = "/" }]\n', "'smoke.checks[1].port': missing"),
        ('kind = "http"\nport = 1\nchecks = [{ colour = 1 }]\n', "'smoke.checks[1].colour'"),
        ('kind = "http"\nport = 1\npath = "/"\nchecks = [{}]\n', "'smoke.path': set it in each"),
        ('kind = "command"\nargs = "--help"\n', "'smoke.args': expected a list of strings"),
        ('kind = "command"\nexit_code = -1\n', "'smoke.exit_code': expected a whole number"),
        ('kind = "stays-up"\nseconds = 0\n', "'smoke.seconds': expected a number of seconds > 0"),
        ('kind = "none"\n', "'smoke.reason': kind 'none' needs a reason"),
        ("port = 80\n", "'smoke.port': unknown field for kind '(default)'"),
        ("env = { A = true }\n", "'smoke.env.A': expected a string or a number"),
        ('env_file = "nope.env"\n', "'smoke.env_file': cannot read"),
    ],
)
def test_smoke_mistakes_name_file_variant_and_field(
    project: Path, section: str, expected: str
) -> None:
    message = _error(project, GOOD + "[variant.smoke]\n" + section)
    assert message.startswith(f"{project / 'variants.toml'}: {PREFIX}"), message
    assert expected in message, message


def test_a_bad_env_file_line_is_named(project: Path) -> None:
    (project / "bad.env").write_text("A=1\nnot a setting\n")
    message = _error(project, GOOD + '[variant.smoke]\nenv_file = "bad.env"\n')
    assert "'smoke.env_file':" in message and "bad.env line 2: expected NAME=VALUE" in message


def test_smoke_must_be_a_table(project: Path) -> None:
    assert "field 'smoke': expected a table" in _error(project, GOOD + 'smoke = "http"\n')
