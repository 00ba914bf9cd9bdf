"""Real telephony for the browser tests, three Debian servers on free local ports:

- Janus (``janus``) with its HTTP API (an ``api_secret``, no admin API) and the SIP plugin only:
  what the agent's browser talks to, as in production;
- Kamailio (``kamailio``) as the SIP trunk: registrar and proxy in memory (no database), which
  challenges the phone's REGISTER and the platform's INVITE for their passwords, relays calls
  to the registered phone and logs each request with its caller ID;
- baresip (``baresip``) as the practitioner's phone, registered to Kamailio as +33611223344: it
  answers by itself, its microphone is a 440 Hz tone (``ausine``), it writes what it hears to
  a WAV file (``sndfile``) and prints RTCP figures when the call ends (``rtcpsummary``).

Like the browser, they skip with a visible reason when a server is missing on a developer's
machine; under CI (``CI=true``) a missing one is a failure, not a skip.
"""

import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import _missing
from .coturn import free_port

JANUS = os.environ.get("CONSULTO_JANUS", "janus")
KAMAILIO = os.environ.get("CONSULTO_KAMAILIO", "kamailio")
BARESIP = os.environ.get("CONSULTO_BARESIP", "baresip")
JANUS_LIB = Path(os.environ.get("CONSULTO_JANUS_LIB", "/usr/lib/x86_64-linux-gnu/janus"))
KAMAILIO_MODULES = Path(
    os.environ.get("CONSULTO_KAMAILIO_MODULES", "/usr/lib/x86_64-linux-gnu/kamailio/modules")
)
BARESIP_MODULES = Path(os.environ.get("CONSULTO_BARESIP_MODULES", "/usr/lib/baresip/modules"))
DOMAIN = "sip.consulto.test"
TRUNK_USER = "consulto"
PHONE = "+33611223344"
CALLER_ID = "+33180000000"
SUMMARY = re.compile(r"EX=BareSip;CS=(-?\d+);CD=(\d+);PR=(\d+);PS=(\d+);PL=(-?\d+),(-?\d+);")


@dataclass
class Phone:
    """The practitioner's phone: what it logged and what it heard."""

    log: Path
    recordings: Path

    def summary(self) -> dict | None:
        """The RTCP figures of the last call that ended: packets received and sent, seconds."""
        found = SUMMARY.findall(self.log.read_text(errors="replace"))
        if not found:
            return None
        _setup, seconds, received, sent, lost, _lost_tx = (int(x) for x in found[-1])
        return {"seconds": seconds, "received": received, "sent": sent, "lost": lost}

    def heard(self) -> dict:
        """What the phone's loudspeaker got in the last call: seconds of audio and its loudness
        (RMS of the 16-bit samples: 0 is silence, Chromium's fake microphone beeps)."""
        files = sorted(self.recordings.glob("dump-*-dec.wav"))
        if not files:
            return {"seconds": 0.0, "rms": 0.0}
        with wave.open(str(files[-1])) as recording:
            frames = recording.readframes(recording.getnframes())
            rate = recording.getframerate()
        samples = memoryview(frames).cast("h")
        if not len(samples):
            return {"seconds": 0.0, "rms": 0.0}
        rms = math.sqrt(sum(s * s for s in samples) / len(samples))
        return {"seconds": len(samples) / rate, "rms": rms}


@dataclass
class Telephony:
    janus_url: str
    api_secret: str
    proxy: str
    trunk_secret: str
    phone: Phone
    janus_log: Path
    kamailio_log: Path

    def use(self, settings) -> None:
        """Point the platform at these servers (Django's ``settings`` fixture)."""
        settings.CONSULTO_JANUS_URL = self.janus_url
        settings.CONSULTO_JANUS_API_SECRET = self.api_secret
        settings.CONSULTO_SIP_PROXY = self.proxy
        settings.CONSULTO_SIP_DOMAIN = DOMAIN
        settings.CONSULTO_SIP_USERNAME = TRUNK_USER
        settings.CONSULTO_SIP_SECRET = self.trunk_secret
        settings.CONSULTO_SIP_CALLER_ID = CALLER_ID

    def trunk_saw(self, method: str) -> list[str]:
        """Kamailio's log lines of the requests of this method it received."""
        return [
            line
            for line in self.kamailio_log.read_text(errors="replace").splitlines()
            if f"trunk: {method} " in line
        ]


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        _missing(f"{package}'s {name} not found (apt-get install -y {package})")
    return found


KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="{domain}"
mpath="{modules}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    xlog("L_NOTICE", "trunk: $rm $ru from $fu caller $hdr(P-Asserted-Identity) call $ci\\n");
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{phone_secret}", "0")) {{
            www_challenge("$td", "0");
            exit;
        }}
        if ($au != $tU) {{ sl_send_reply("403", "Forbidden"); exit; }}
        save("location");
        exit;
    }}
    if (is_method("INVITE")) {{
        if (!pv_proxy_authenticate("$fd", "{trunk_secret}", "0")) {{
            proxy_challenge("$fd", "0");
            exit;
        }}
        if ($au != "{trunk_user}") {{ sl_send_reply("403", "Forbidden"); exit; }}
        consume_credentials();
        record_route();
    }}
    if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
    t_relay();
}}
"""

# Its SDP must say 127.0.0.1, where it sends from: Janus only takes RTP from the address the
# SDP gave (a connected socket), and baresip would otherwise give its first network card's.
BARESIP_CONFIG = """poll_method epoll
net_interface 127.0.0.1
sip_listen 127.0.0.1:{port}
sip_transports udp
audio_player aubridge,speaker
audio_alert aubridge,speaker
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
rtp_ports {rtp_low}-{rtp_high}
module_path {modules}
module g711.so
module ausine.so
module aubridge.so
module sndfile.so
module_app account.so
module_app rtcpsummary.so
snd_path {recordings}
"""

JANUS_CFG = """general: {{
    configs_folder = "{folder}"
    plugins_folder = "{lib}/plugins"
    transports_folder = "{lib}/transports"
    events_folder = "{lib}/events"
    loggers_folder = "{lib}/loggers"
    debug_level = 4
    api_secret = "{secret}"
}}
media: {{
    rtp_port_range = "{ice_low}-{ice_high}"
}}
nat: {{
    nice_debug = false
}}
plugins: {{
    disable = "{plugins}"
}}
transports: {{
    disable = "{transports}"
}}
loggers: {{
    disable = "{loggers}"
}}
events: {{
    broadcast = false
    disable = "{events}"
}}
"""

JANUS_HTTP_CFG = """general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    ip = "127.0.0.1"
    port = {port}
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
"""

JANUS_SIP_CFG = """general: {{
    local_ip = "127.0.0.1"
    local_media_ip = "127.0.0.1"
    sdp_ip = "127.0.0.1"
    keepalive_interval = 0
    behind_nat = false
    rtp_port_range = "{rtp_low}-{rtp_high}"
    events = false
}}
"""


def _others(folder: Path, keep: str) -> str:
    """The modules of a Janus folder that are not ``keep``: Janus loads all it finds."""
    return ",".join(sorted(p.name for p in folder.glob("*.so") if p.name != keep))


def _start(command: list[str], log: Path, **options) -> subprocess.Popen:
    with log.open("w") as output:
        # Its own process group: the teardown ends it with everything it forked.
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **options,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait(ready, process: subprocess.Popen, log: Path, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)


def _answers_sip(port: int) -> bool:
    """Whether a SIP OPTIONS to the port gets any answer (Kamailio is listening)."""
    branch = "z9hG4bK" + secrets.token_hex(6)
    request = (
        f"OPTIONS sip:{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{DOMAIN}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:{DOMAIN}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(request.encode(), ("127.0.0.1", port))
        try:
            return probe.recv(4096).startswith(b"SIP/2.0")
        except OSError:
            return False


def _answers_janus(url: str, secret: str) -> bool:
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        url,
        data=json.dumps({"janus": "ping", "transaction": "probe", "apisecret": secret}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=0.5) as answer:  # noqa: S310 (our http URL)
            return json.loads(answer.read()).get("janus") == "pong"
    except OSError:
        return False


@pytest.fixture
def telephony(tmp_path):
    """Janus, Kamailio and baresip running, the phone registered; ``telephony.use(settings)``
    points the platform at them."""
    janus, kamailio, baresip = (
        _binary(JANUS, "janus"),
        _binary(KAMAILIO, "kamailio"),
        _binary(BARESIP, "baresip"),
    )
    # RTP port ranges picked at random: two suites may run side by side on one machine.
    base = random.randrange(20000, 59000, 300)
    trunk_port, phone_port, janus_port = free_port(), free_port(), free_port()
    trunk_secret, phone_secret, api_secret = (secrets.token_hex(12) for _ in range(3))
    processes: list[subprocess.Popen] = []
    try:
        trunk_dir = tmp_path / "kamailio"
        trunk_dir.mkdir()
        (trunk_dir / "kamailio.cfg").write_text(
            KAMAILIO_CFG.format(
                port=trunk_port,
                domain=DOMAIN,
                modules=KAMAILIO_MODULES,
                phone_secret=phone_secret,
                trunk_secret=trunk_secret,
                trunk_user=TRUNK_USER,
            )
        )
        kamailio_log = tmp_path / "kamailio.log"
        command = [kamailio, "-f", str(trunk_dir / "kamailio.cfg"), "-DD", "-E", "-m", "32"]
        command += ["-Y", str(trunk_dir), "-P", str(trunk_dir / "kamailio.pid")]
        processes.append(_start(command, kamailio_log))
        _wait(lambda: _answers_sip(trunk_port), processes[-1], kamailio_log, "kamailio")

        phone_dir, recordings = tmp_path / "baresip", tmp_path / "heard"
        phone_dir.mkdir()
        recordings.mkdir()
        (phone_dir / "config").write_text(
            BARESIP_CONFIG.format(
                port=phone_port,
                rtp_low=base + 200,
                rtp_high=base + 299,
                modules=BARESIP_MODULES,
                recordings=recordings,
            )
        )
        (phone_dir / "accounts").write_text(
            f"<sip:{PHONE}@{DOMAIN};transport=udp>;auth_pass={phone_secret};"
            f'outbound="sip:127.0.0.1:{trunk_port};transport=udp";answermode=auto;regint=600\n'
        )
        phone = Phone(log=tmp_path / "baresip.log", recordings=recordings)
        processes.append(_start([baresip, "-f", str(phone_dir)], phone.log))
        _wait(
            lambda: "200 OK" in phone.log.read_text(errors="replace"),
            processes[-1],
            phone.log,
            "baresip (registered to kamailio)",
        )

        janus_dir = tmp_path / "janus"
        janus_dir.mkdir()
        (janus_dir / "janus.jcfg").write_text(
            JANUS_CFG.format(
                folder=janus_dir,
                lib=JANUS_LIB,
                secret=api_secret,
                ice_low=base,
                ice_high=base + 99,
                plugins=_others(JANUS_LIB / "plugins", "libjanus_sip.so"),
                transports=_others(JANUS_LIB / "transports", "libjanus_http.so"),
                loggers=_others(JANUS_LIB / "loggers", ""),
                events=_others(JANUS_LIB / "events", ""),
            )
        )
        (janus_dir / "janus.transport.http.jcfg").write_text(JANUS_HTTP_CFG.format(port=janus_port))
        (janus_dir / "janus.plugin.sip.jcfg").write_text(
            JANUS_SIP_CFG.format(rtp_low=base + 100, rtp_high=base + 199)
        )
        janus_log = tmp_path / "janus.log"
        command = [janus, "-C", str(janus_dir / "janus.jcfg"), "-F", str(janus_dir)]
        processes.append(_start([*command, "--disable-colors"], janus_log))
        url = f"http://127.0.0.1:{janus_port}/janus"
        _wait(lambda: _answers_janus(url, api_secret), processes[-1], janus_log, "janus")
        yield Telephony(
            janus_url=url,
            api_secret=api_secret,
            proxy=f"sip:127.0.0.1:{trunk_port}",
            trunk_secret=trunk_secret,
            phone=phone,
            janus_log=janus_log,
            kamailio_log=kamailio_log,
        )
    finally:
        for process in reversed(processes):
            _stop(process)
