// The device test before a video consultation: camera preview, microphone level, a test sound,
// the round trip to the server, and whether the relay server (TURN) answers from this network.
// Results go into the form's hidden fields (camera, microphone, speaker, rtt_ms, relay,
// relay_ms, error) so the server keeps what the test saw. Every failure gets plain help for the
// browser in use. Texts come from the page (#device-texts, translated); the ICE servers too
// (#device-ice-servers, with fresh time-limited TURN credentials).
(function () {
  "use strict";
  const root = document.getElementById("device-check");
  if (!root) return;
  const texts = JSON.parse(document.getElementById("device-texts").textContent);
  const iceScript = document.getElementById("device-ice-servers");
  const iceServers = (iceScript && JSON.parse(iceScript.textContent)) || [];
  const RELAY_WAIT_MS = 5000;
  const CALL_FIRST_MS = 3000;
  const form = document.getElementById("video-form");
  const video = document.getElementById("device-preview");
  const meter = document.getElementById("device-level");
  const help = document.getElementById("device-help");
  let stream = null;
  let audioContext = null;

  function field(name, value) {
    const input = form.querySelector(`[name="${name}"]`);
    if (input) input.value = value;
  }

  function show(id, ok, text) {
    const item = document.getElementById(id);
    item.className = ok ? "ok" : "ko";
    item.querySelector(".state").textContent = ok ? "✓" : "✗";
    item.querySelector(".text").textContent = text;
  }

  // Neither success nor failure: something to know (no relay server to test, for instance).
  function note(id, text) {
    const item = document.getElementById(id);
    item.className = "";
    item.querySelector(".state").textContent = "–";
    item.querySelector(".text").textContent = text;
  }

  function browser() {
    const ua = navigator.userAgent;
    if (ua.includes("Edg/")) return "edge";
    if (ua.includes("Firefox/")) return "firefox";
    if (ua.includes("Chrome/") || ua.includes("Chromium/")) return "chrome";
    if (ua.includes("Safari/")) return "safari";
    return "other";
  }

  function explain(kind) {
    help.textContent = texts.help[kind] || texts.help.denied_other;
    help.hidden = false;
    field("error", kind);
  }

  // On a call page the call opens the camera once and lends its stream (useStream below): one
  // permission prompt, one camera start. A lent stream is never stopped here.
  let lent = false;
  function stop() {
    if (stream && !lent) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    lent = false;
  }

  function listen(audioStream) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audioContext = audioContext || new Context();
    const source = audioContext.createMediaStreamSource(audioStream);
    const analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    function tick() {
      if (!stream) return;
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample - 128));
      meter.value = Math.min(100, Math.round((peak / 128) * 140));
      requestAnimationFrame(tick);
    }
    tick();
  }

  async function devices(given) {
    help.hidden = true;
    field("error", "");
    stop();
    if (!window.isSecureContext) return explain("insecure");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return explain("unsupported");
    try {
      stream = await (given || navigator.mediaDevices.getUserMedia({ video: true, audio: true }));
      lent = Boolean(given);
    } catch (error) {
      show("check-camera", false, texts.cameraKo);
      show("check-microphone", false, texts.microphoneKo);
      field("camera", "false");
      field("microphone", "false");
      if (error.name === "NotAllowedError" || error.name === "SecurityError") {
        return explain("denied_" + browser());
      }
      if (error.name === "NotFoundError" || error.name === "OverconstrainedError") return explain("not_found");
      if (error.name === "NotReadableError" || error.name === "AbortError") return explain("in_use");
      return explain("unsupported");
    }
    video.srcObject = stream;
    const hasVideo = stream.getVideoTracks().some((t) => t.readyState === "live");
    const hasAudio = stream.getAudioTracks().some((t) => t.readyState === "live");
    show("check-camera", hasVideo, hasVideo ? texts.cameraOk : texts.cameraKo);
    show("check-microphone", hasAudio, hasAudio ? texts.microphoneOk : texts.microphoneKo);
    field("camera", String(hasVideo));
    field("microphone", String(hasAudio));
    if (hasAudio) listen(new MediaStream(stream.getAudioTracks()));
  }

  async function network() {
    const url = root.dataset.pingUrl;
    const times = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      try {
        const answer = await fetch(url + "?n=" + i, { cache: "no-store", credentials: "same-origin" });
        if (!answer.ok) throw new Error(String(answer.status));
        await answer.json();
      } catch (error) {
        show("check-network", false, texts.networkKo);
        return;
      }
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = Math.round(times[Math.floor(times.length / 2)]);
    field("rtt_ms", String(median));
    const text = (median > 300 ? texts.networkSlow : texts.networkOk).replace("%(ms)s", median);
    show("check-network", median <= 300, text);
  }

  function turnServers() {
    const isTurn = (url) => /^turns?:/i.test(url);
    return (Array.isArray(iceServers) ? iceServers : [])
      .map((server) => ({ ...server, urls: [].concat(server.urls || []).filter(isTurn) }))
      .filter((server) => server.urls.length > 0);
  }

  let relayRun = 0;
  let relayPeer = null;

  function closeRelayPeer() {
    if (relayPeer) relayPeer.close();
    relayPeer = null;
  }

  // A peer connection that may only use the relay: if a "relay" candidate comes, the relay
  // server answered and gave an address; nothing within the wait means the network blocks it.
  async function relay() {
    const run = (relayRun += 1);
    const relayHelp = document.getElementById("relay-help");
    relayHelp.hidden = true;
    closeRelayPeer();
    field("relay_ms", "");
    const servers = turnServers();
    if (servers.length === 0) {
      field("relay", "none");
      return note("check-relay", texts.relayNone);
    }
    if (!window.RTCPeerConnection) {
      field("relay", "unsupported");
      return show("check-relay", false, texts.relayUnsupported);
    }
    const started = performance.now();
    let elapsed = null;
    try {
      const peer = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: "relay" });
      relayPeer = peer;
      elapsed = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), RELAY_WAIT_MS);
        peer.addEventListener("icecandidate", (event) => {
          const candidate = event.candidate;
          if (candidate && (candidate.type === "relay" || / typ relay /.test(candidate.candidate))) {
            clearTimeout(timer);
            resolve(Math.round(performance.now() - started));
          }
        });
        peer.addEventListener("icegatheringstatechange", () => {
          if (peer.iceGatheringState === "complete") {
            clearTimeout(timer);
            resolve(null);
          }
        });
        peer.createDataChannel("relay-check");
        peer
          .createOffer()
          .then((offer) => peer.setLocalDescription(offer))
          .catch(() => resolve(null));
      });
    } catch (error) {
      elapsed = null;
    }
    if (run !== relayRun) return; // "Test again" started a newer check
    closeRelayPeer();
    if (elapsed === null) {
      field("relay", "unreachable");
      show("check-relay", false, texts.relayKo);
      relayHelp.textContent = texts.relayHelp;
      relayHelp.hidden = false;
      return;
    }
    field("relay", "reachable");
    field("relay_ms", String(elapsed));
    show("check-relay", true, texts.relayOk.replace("%(ms)s", elapsed));
  }

  function sound() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audioContext = audioContext || new Context();
    const oscillator = audioContext.createOscillator();
    const gain = audioContext.createGain();
    oscillator.frequency.value = 660;
    gain.gain.setValueAtTime(0.2, audioContext.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audioContext.currentTime + 0.8);
    oscillator.connect(gain).connect(audioContext.destination);
    oscillator.start();
    oscillator.stop(audioContext.currentTime + 0.8);
  }

  const heard = document.getElementById("heard");
  if (heard) {
    heard.addEventListener("change", () => {
      field("speaker", String(heard.checked));
      if (heard.checked) show("check-speaker", true, texts.speakerOk);
    });
  }
  document.getElementById("device-start").addEventListener("click", () => {
    devices();
    network();
    relay();
  });
  document.getElementById("device-sound").addEventListener("click", sound);
  window.addEventListener("pagehide", () => {
    stop();
    closeRelayPeer();
  });
  // The round trip and relay checks send requests and gather candidates: on a call page they
  // wait for the call's first frame (the page calls measure()), or a few seconds at most.
  let measured = false;
  function measure() {
    if (measured) return;
    measured = true;
    network();
    relay();
  }
  // The call page's camera request (a promise of the stream), to test instead of opening ours.
  window.deviceCheck = { useStream: (promise) => devices(promise), measure };
  if ("sharedStream" in root.dataset) {
    setTimeout(measure, CALL_FIRST_MS);
  } else {
    devices();
    measure();
  }
})();
