"""`nnserve --help`, `--version` and flag errors, run as the real command."""

from __future__ import annotations

import tomllib

import onnxruntime
import pytest

from service.cli.flags import default_text, env_name, flag_name
from service.config import Settings
from tests.servers import ROOT
from tests.service.cli.invoke import run_cli


def test_help_lists_every_setting_with_its_variable_and_default() -> None:
    done = run_cli("--help", COLUMNS="200")
    assert done.returncode == 0, done.stderr
    help_text = " ".join(done.stdout.split())  # argparse wraps lines
    for name, field in Settings.model_fields.items():
        assert flag_name(name) in help_text, name
        assert f"[{env_name(name)}, default {default_text(field)}]" in help_text, name
    assert "models" in help_text and "--version" in help_text


def test_help_of_models_names_its_flags() -> None:
    done = run_cli("models", "--help")
    assert done.returncode == 0, done.stderr
    assert "--models-dir" in done.stdout and "NNSERVE_MODELS_DIR" in done.stdout
    assert "--port" not in done.stdout


def test_version_is_the_package_version() -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = run_cli("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"nnserve {expected}")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--port", "70000"], {}, "--port 70000: Input should be less than or equal to 65535"),
        (["--port", "eighty"], {}, "--port eighty: Input should be a valid integer"),
        (["--workers", "0"], {}, "--workers 0: Input should be greater than or equal to 1"),
        (["--providers", "gpu"], {}, "argument --providers: invalid choice: 'gpu'"),
        (["--no-such-flag"], {}, "unrecognized arguments: --no-such-flag"),
        (["--port"], {}, "argument --port: expected one argument"),
        (["models", "--port", "1"], {}, "unrecognized arguments: --port 1"),
        ([], {"NNSERVE_PORT": "eighty"}, "NNSERVE_PORT=eighty: Input should be a valid integer"),
        ([], {"NNSERVE_LOG_LEVEL": "loud"}, "NNSERVE_LOG_LEVEL=loud: Input should be"),
    ],
)
def test_a_bad_flag_or_variable_is_one_line_and_status_2(
    args: list[str], env: dict[str, str], says: str
) -> None:
    done = run_cli(*args, **env)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert says in lines[0]
    assert lines[0].startswith("python -m service: error: ")


def test_a_flag_wins_over_its_variable() -> None:
    done = run_cli("models", "--models-dir", str(ROOT / "models"), NNSERVE_MODELS_DIR="/nowhere")
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_cuda_where_it_cannot_run_is_one_line_and_status_2() -> None:
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here: the strict setting is satisfiable")
    done = run_cli("models", "--providers", "cuda")
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1 and "CUDA" in done.stderr, done.stderr
