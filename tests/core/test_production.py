"""Production mode, started as the README says: `consulto serve` with DEBUG off and the production
variables, pages, static files (hashed names, cached for a year) and error pages answering."""

import http.client
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from .test_settings import ROOT, base_env

pytestmark = pytest.mark.real_clock  # a server in another process, on the machine's clock


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, **headers) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": "consulto.example.org", **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _consulto(*args: str, env: dict, **options):
    return subprocess.run(
        [sys.executable, "-m", "consulto.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        **options,
    )


@pytest.fixture
def production(tmp_path):
    env = base_env(tmp_path)
    env.update(
        CONSULTO_SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        CONSULTO_ALLOWED_HOSTS="consulto.example.org",
        CONSULTO_SITE_URL="http://consulto.example.org",
        CONSULTO_HTTPS="0",  # a proxy on a trusted network speaks HTTP to us
    )
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "consulto.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while "Consulto is running on" not in (tmp_path / "serve.log").read_text():
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)
    try:
        yield port, env, tmp_path
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_the_production_server_serves_pages_static_files_and_french_error_pages(production):
    port, env, data_dir = production
    demo = _consulto("demo", "--practitioners", "2", "--no-progress", env=env)
    assert demo.returncode == 0, demo.stderr

    status, _headers, body = _get(port, "/")
    page = body.decode()
    assert status == 200, page
    assert '<html lang="fr">' in page
    stylesheet = re.search(r'href="(/static/core/consulto\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the page names the stylesheet by its hashed name"

    with sqlite3.connect(data_dir / "consulto.sqlite3") as db:
        (practitioner,) = db.execute(
            "SELECT practitioner_id FROM scheduling_agenda WHERE practitioner_id IS NOT NULL"
        ).fetchone()
    status, _headers, body = _get(port, f"/praticien/{practitioner}/")
    assert status == 200, body.decode()[:2000]

    # The practice space sends a visitor to the login page, saying what the space is for.
    status, headers, _body = _get(port, "/pro/")
    assert status == 302 and headers["location"].startswith("/accounts/login/")
    cookies = "; ".join(
        value.split(";")[0] for key, value in headers.items() if key == "set-cookie"
    )
    status, _headers, body = _get(port, headers["location"], Cookie=cookies)
    assert status == 200
    assert "professionnels de santé" in body.decode()

    status, headers, body = _get(port, stylesheet.group(1), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]
    assert int(re.search(r"max-age=(\d+)", headers["cache-control"]).group(1)) >= 31536000

    status, _headers, body = _get(port, "/cette-page-n-existe-pas/")
    page = body.decode()
    assert status == 404
    assert "Page introuvable" in page and stylesheet.group(1) in page

    log = (data_dir / "serve.log").read_text()
    assert "lifespan" not in log and "Traceback" not in log and "Warning" not in log, log


def test_a_start_collects_static_files_only_when_they_changed(tmp_path, settings):
    from django.test.utils import override_settings

    from consulto.core import staticfiles

    source = tmp_path / "source"
    (source / "extra").mkdir(parents=True)
    (source / "extra" / "note.css").write_text("body { color: black; }")
    with override_settings(
        STATIC_ROOT=tmp_path / "collected",
        STATICFILES_DIRS=[source],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
    ):
        assert staticfiles.collect_if_changed() is True
        assert (tmp_path / "collected" / "staticfiles.json").exists()
        assert staticfiles.collect_if_changed() is False  # nothing changed: nothing done
        (source / "extra" / "note.css").write_text("body { color: #222; }")
        assert staticfiles.collect_if_changed() is True
        (tmp_path / "collected" / "staticfiles.json").unlink()  # a lost manifest is rebuilt
        assert staticfiles.collect_if_changed() is True


def test_serve_refuses_several_workers_without_redis(monkeypatch, capsys):
    from consulto import cli

    monkeypatch.delenv("REDIS_URL", raising=False)
    assert cli.main(["serve", "--workers", "2"]) == 2
    assert "REDIS_URL" in capsys.readouterr().err
    assert cli.default_workers() == 1


def test_serve_runs_one_worker_per_core_with_redis(monkeypatch):
    from consulto import cli

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 4)
    assert cli.default_workers() == 4
    command = cli.server_command(host="0.0.0.0", port=8000, workers=4)  # noqa: S104
    assert command[command.index("--workers") + 1] == "4"
