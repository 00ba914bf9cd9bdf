import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def base_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTO_")}
    env.update(DJANGO_SETTINGS_MODULE="consulto.settings", CONSULTO_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    return env


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = base_env(tmp_path)
    env.update(
        CONSULTO_SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        CONSULTO_ALLOWED_HOSTS="consulto.example.org",
    )
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked_for(tmp_path):
    env = base_env(tmp_path)
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    result = run_manage("shell", "-c", code, env=env)
    assert result.stdout.split()[-2:] == ["False", "True"], result.stderr


def test_a_generated_secret_key_is_kept_private(tmp_path):
    env = base_env(tmp_path)
    run_manage("check", env=env)
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
