"""`ai-intake run` as a person starts it: clear sentences for missing settings; HTTP mode serves /healthz and commands."""

import pytest
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.harness import SIGNING_SECRET, command_form, send_form, write_config

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AI_INTAKE_"))}
    env.update(
        AI_INTAKE_DB=str(tmp_path / "bot.db"), AI_INTAKE_CONFIG=str(write_config(tmp_path / "ai-intake.yml")), **extra
    )
    return env


def test_run_without_a_token_says_what_to_set(tmp_path) -> None:
    result = run_cli("run", env=base_env(tmp_path))
    assert result.returncode == 2
    assert "Set SLACK_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_without_a_signing_secret_in_http_mode(tmp_path) -> None:
    result = run_cli("run", env=base_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"))
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET" in result.stderr and "Traceback" not in result.stderr


def test_run_with_a_missing_config_names_it(tmp_path) -> None:
    env = base_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    env["AI_INTAKE_CONFIG"] = str(tmp_path / "nope.yml")
    result = run_cli("run", env=env)
    assert (
        result.returncode == 1 and "nope.yml: no such config file" in result.stderr and "Traceback" not in result.stderr
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_mode_serves_healthz_and_signed_commands(tmp_path, fake_slack) -> None:
    port = free_port()
    env = base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        PORT=str(port),
        HOST="127.0.0.1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = (response.status, json.loads(response.read()))
                break
            except OSError:
                time.sleep(0.1)
        assert health == (200, {"alive": True, "writer": "ok"})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            ready = json.loads(response.read())
            assert response.status == 200
        assert (ready["database"], ready["writes"], ready["schema"], ready["outbox"], ready["scheduler"]) == (
            "ok",
            "ok",
            "ok",
            "ok",
            "running",
        )
        body = command_form(fake_slack, "regression: refund window wrong")
        assert send_form(f"http://127.0.0.1:{port}", body, timeout=5) == (
            200,
            b"",
        )  # acked at once; answered at the response_url
        for _ in range(100):
            if fake_slack.messages("C0SUPPORT") and fake_slack.responses:
                break
            time.sleep(0.05)
        assert len(fake_slack.messages("C0SUPPORT")) == 1
        assert "AIR-1" in fake_slack.responses[0]["body"]["text"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopping (SIGTERM)" in stderr  # a graceful stop
    assert "Traceback" not in stderr and "will be unused" not in stderr
    assert fake_slack.token not in stderr and SIGNING_SECRET not in stderr


def test_secrets_come_from_files_as_well_as_the_environment(tmp_path) -> None:
    from bot.runtime.settings import SettingsError, hook_secrets, load_settings

    (tmp_path / "token").write_text("xoxb-from-a-file\n")  # as `echo` or a secrets manager writes it
    (tmp_path / "hook").write_text("s3cret")
    settings = load_settings({"SLACK_BOT_TOKEN_FILE": str(tmp_path / "token"), "SLACK_SIGNING_SECRET": "abc"})
    assert (settings.bot_token, settings.signing_secret) == ("xoxb-from-a-file", "abc")
    assert hook_secrets({"deploys": "DEPLOY_HOOK_SECRET"}, {"DEPLOY_HOOK_SECRET_FILE": str(tmp_path / "hook")}) == {
        "deploys": "s3cret"
    }
    with pytest.raises(SettingsError, match="^Set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE, not both.$"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_BOT_TOKEN_FILE": str(tmp_path / "token")})
    result = run_cli("run", env=base_env(tmp_path, SLACK_BOT_TOKEN_FILE=str(tmp_path / "no-such-file")))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"ai-intake: SLACK_BOT_TOKEN_FILE names {tmp_path / 'no-such-file'}, which cannot be read "
        "(FileNotFoundError: No such file or directory)."
    )
