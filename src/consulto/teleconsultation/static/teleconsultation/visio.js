// A video consultation in the browser: WebRTC peer to peer, signaling over the room's WebSocket.
//
// The practitioner makes the offer once the patient is admitted and present; the patient
// answers. Candidates trickle both ways (queued until the remote description is set). A page
// reload on either side starts a fresh connection (the other side hears "joined" and answers
// with "presence"); a lost connection or a network change restarts ICE. Every 5 seconds each
// side sends a summary of getStats; the practitioner sees a quality indicator.
//
// Joining is kept short (bench/visio_join.py): the socket and the camera are asked for from the
// page's head (_visio_start.js); the practitioner's offer is made ahead and leaves with the
// admission (on arrival, from the server); the patient answers at once, camera or not yet. No
// media flows before the practitioner admits the patient (their offer starts it).
//
// The page is also shown before the room opens (it reloads itself when it does: the server then
// serves the call) and after the call (its messages and documents); the practitioner's page has
// the patient file beside the call, loaded when opened.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("visio-config").textContent);
  const texts = config.texts;
  patientFile();
  if (config.state === "early") {
    waitForOpening();
    return;
  }
  if (config.state !== "open") return;
  const practitioner = config.side === "practitioner";
  const status = document.getElementById("visio-status");
  const localVideo = document.getElementById("visio-local");
  const remoteVideo = document.getElementById("visio-remote");
  const messages = document.getElementById("visio-messages");
  const admitButton = document.getElementById("visio-admit");
  // "Let the patient in as soon as they arrive": the practitioner's choice, kept in this browser.
  const autoAdmit = document.getElementById("visio-auto-admit");
  const AUTO_ADMIT_KEY = "consulto.visio.autoAdmit";
  const quality = document.getElementById("visio-quality");
  const state = { admitted: false, peerPresent: false, ended: false, iceServers: [], pending: [] };
  let socket = null;
  let pc = null;
  let localStream = null;
  let lastBytes = null;
  window.visio = state; // read by the browser tests (state.pc.getStats()) and the bench
  // What _visio_start.js began from the page's head (the socket, the camera), taken over once.
  const early = window.visioStart || null;
  window.visioStart = null;
  // Milliseconds from navigation to each step of joining (bench/visio_join.py prints them).
  state.marks = Object.assign({}, early && early.marks);
  function mark(name) {
    if (!(name in state.marks)) state.marks[name] = Math.round(performance.now());
  }
  mark("script");

  function say(text) {
    status.textContent = text;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  let opening = null;
  function media() {
    // One request for the camera, shared by whoever needs it first, the device test included.
    if (!opening) {
      let asked = early && early.media;
      if (!asked) {
        asked = navigator.mediaDevices
          ? navigator.mediaDevices.getUserMedia({ video: true, audio: true })
          : Promise.reject(new Error("unsupported"));
      }
      if (window.deviceCheck) window.deviceCheck.useStream(asked);
      opening = asked
        .catch(() => new MediaStream()) // join anyway: hear and see the other side
        .then((stream) => {
          localStream = stream;
          localVideo.srcObject = stream;
          mark("media");
          return stream;
        });
    }
    return opening;
  }

  function closePeer() {
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    state.pc = null;
    state.pending = [];
  }

  // One transport for audio and video (every browser we serve bundles): half the candidates
  // to gather and check, and the checks start sooner.
  function newConnection() {
    return new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
  }

  function sending(connection) {
    return connection.getSenders().some((sender) => sender.track);
  }

  // The practitioner's offer made ahead while they wait, its candidates gathered (kept here
  // until it is used): left with the server while "let the patient in as soon as they arrive"
  // is ticked, which sends it with the admission the moment the patient's page joins; a click
  // on "let the patient in" uses it too. Renewed now and then (TURN credentials expire); the
  // one before stays a minute, in case the server sent it meanwhile.
  const AHEAD_MINUTES = 10;
  let ahead = null;
  let made = 0;
  const retired = new Map();
  function prepareAhead() {
    if (ahead) retire(ahead);
    ahead = null;
    if (!practitioner || state.admitted || state.ended || pc || !window.RTCPeerConnection) return;
    const next = { id: (made += 1), pc: newConnection(), offer: null, candidates: [] };
    next.pc.onicecandidate = (event) => next.candidates.push(event.candidate);
    ahead = next;
    media()
      .then(async (stream) => {
        stream.getTracks().forEach((track) => next.pc.addTrack(track, stream));
        const offer = await next.pc.createOffer();
        await next.pc.setLocalDescription(offer);
        next.offer = offer;
        if (ahead === next) arm();
      })
      .catch(() => {});
  }
  function retire(old) {
    retired.set(old.id, old);
    setTimeout(() => {
      if (retired.delete(old.id)) old.pc.close();
    }, 60000);
  }
  setInterval(() => {
    if (ahead) prepareAhead();
  }, AHEAD_MINUTES * 60000);
  function takeAhead(id) {
    // The offer made ahead: the one the server sent (id), else the current one, if ready.
    let taken = id ? retired.get(id) : null;
    if (taken) retired.delete(id);
    else if (ahead && ahead.offer && (!id || ahead.id === id)) taken = ahead;
    if (taken === ahead) ahead = null;
    return taken || null;
  }
  function arm() {
    // Whether the server lets the patient in on arrival, with the offer made ahead.
    if (!ahead || !ahead.offer || state.admitted) return;
    if (autoAdmit && autoAdmit.checked) send({ type: "arm", sdp: ahead.offer.sdp, id: ahead.id });
    else send({ type: "disarm" });
  }

  function sendCandidate(c) {
    send({
      type: "candidate",
      candidate: c ? c.candidate : "",
      sdpMid: c ? c.sdpMid : null,
      sdpMLineIndex: c ? c.sdpMLineIndex : null,
    });
  }

  async function peer(taken) {
    closePeer();
    const connection = taken ? taken.pc : newConnection();
    pc = connection;
    state.pc = connection;
    // The practitioner's offer carries the camera's tracks (opened with the page, long before
    // a patient comes); the patient answers with theirs, or without them if still opening.
    let stream = null;
    if (!sending(connection)) stream = localStream || (practitioner ? await media() : null);
    if (stream) stream.getTracks().forEach((track) => connection.addTrack(track, stream));
    if (connection !== pc) return connection; // closed meanwhile (the other side left)
    pc.onicecandidate = (event) => sendCandidate(event.candidate);
    let remoteStream = null;
    pc.ontrack = (event) => {
      mark("track");
      if (event.track.kind === "video") firstFrame(pc, event.track);
      // A track the answer announced without its stream (a browser without setStreams).
      if (!event.streams[0]) {
        remoteStream = remoteStream || new MediaStream();
        remoteStream.addTrack(event.track);
      }
      const stream = event.streams[0] || remoteStream;
      if (remoteVideo.srcObject !== stream) remoteVideo.srcObject = stream;
    };
    pc.onconnectionstatechange = () => {
      const s = pc && pc.connectionState;
      if (s === "connected") mark("connected");
      if (s === "connected") {
        say(texts.connected);
        const check = document.getElementById("device-check-panel");
        if (check) check.open = false; // the call is on: the test gives way
      }
      if (s === "disconnected" || s === "failed") {
        say(texts.reconnecting);
        if (practitioner) restart();
      }
    };
    return connection;
  }

  function answerWithoutCamera(connection) {
    // The patient's camera is still opening (or its permission still asked): the answer leaves
    // now, saying each side sends; the tracks go on the senders when they come (replaceTrack,
    // no new negotiation), so the patient sees and hears the practitioner meanwhile.
    const stream = new MediaStream();
    connection.getTransceivers().forEach((transceiver) => {
      if (transceiver.sender.track || transceiver.currentDirection === "stopped") return;
      transceiver.direction = "sendrecv";
      if (transceiver.sender.setStreams) transceiver.sender.setStreams(stream);
    });
    media().then((camera) => {
      if (connection !== pc) return;
      camera.getTracks().forEach((track) => {
        const idle = connection
          .getTransceivers()
          .find((t) => !t.sender.track && t.receiver.track.kind === track.kind);
        if (idle) idle.sender.replaceTrack(track).catch(() => {});
      });
    });
  }

  function firstFrame(connection, track) {
    // Marks the first decoded video frame (a muted page may not play, so not a video event),
    // asking from the first packet on (the track's unmute): no getStats while ICE connects.
    if ("frame" in state.marks) return;
    if (track.muted) {
      track.addEventListener("unmute", () => firstFrame(connection, { muted: false }), {
        once: true,
      });
      return;
    }
    const timer = setInterval(async () => {
      if (connection !== pc || "frame" in state.marks) return clearInterval(timer);
      (await connection.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0) mark("frame");
      });
      if ("frame" in state.marks && window.deviceCheck && window.deviceCheck.measure) {
        window.deviceCheck.measure(); // the device test's requests waited for this
      }
    }, 20);
  }

  async function call(offered) {
    // The practitioner's side: an offer to the present, admitted patient, the one made ahead
    // if there is one (``offered``: its id, the server has sent it, letting the patient in),
    // its candidates right behind it.
    if (!practitioner || !state.admitted || state.ended || !(offered || state.peerPresent)) return;
    const taken = takeAhead(offered);
    const connection = await peer(taken);
    if (taken) {
      if (!(offered && taken.id === offered)) send({ type: "offer", sdp: taken.offer.sdp });
      taken.candidates.forEach(sendCandidate);
      return;
    }
    await connection.setLocalDescription(await connection.createOffer());
    if (connection === pc) send({ type: "offer", sdp: connection.localDescription.sdp });
  }

  async function restart() {
    if (!pc || state.ended) return;
    const offer = await pc.createOffer({ iceRestart: true });
    await pc.setLocalDescription(offer);
    send({ type: "offer", sdp: pc.localDescription.sdp, restart: true });
  }

  async function onOffer(message) {
    mark("offer");
    const connection = message.restart && pc ? pc : await peer();
    await connection.setRemoteDescription({ type: "offer", sdp: message.sdp });
    if (!sending(connection)) {
      if (localStream) {
        // Opened meanwhile: added now, on the transceivers the offer made.
        localStream.getTracks().forEach((t) => connection.addTrack(t, localStream));
      } else {
        answerWithoutCamera(connection);
      }
    }
    await connection.setLocalDescription(await connection.createAnswer());
    send({ type: "answer", sdp: connection.localDescription.sdp });
    flush();
  }

  async function onAnswer(message) {
    if (!pc) return;
    mark("answer");
    await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    flush();
  }

  function flush() {
    const queued = state.pending;
    state.pending = [];
    queued.forEach(addCandidate);
  }

  function addCandidate(message) {
    if (!pc || !pc.remoteDescription) {
      state.pending.push(message);
      return;
    }
    const candidate = message.candidate
      ? { candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex }
      : null;
    pc.addIceCandidate(candidate).catch(() => {});
  }

  function chatLine(side, text) {
    const item = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = (side === config.side ? texts.me : texts.them) + " : ";
    item.append(who, document.createTextNode(text));
    messages.append(item);
    messages.scrollTop = messages.scrollHeight;
  }

  const documentList = document.getElementById("visio-documents");
  const shown = new Set();
  function documentLine(doc) {
    if (shown.has(doc.id)) return;
    shown.add(doc.id);
    document.getElementById("visio-no-documents").hidden = true;
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = config.documentsUrl + doc.id + "/" + (config.token ? "?t=" + encodeURIComponent(config.token) : "");
    link.textContent = doc.name;
    link.setAttribute("download", doc.name);
    const size = document.createElement("span");
    size.className = "meta";
    size.textContent = " (" + texts.kilobytes.replace("%(n)s", Math.max(1, Math.round(doc.size / 1024))) + ")";
    item.append(link, size);
    documentList.append(item);
  }

  const documentForm = document.getElementById("visio-document-form");
  if (documentForm) {
    documentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("visio-document-error");
      const input = document.getElementById("visio-document-file");
      error.hidden = true;
      if (!input.files.length) {
        error.textContent = texts.chooseFile;
        error.hidden = false;
        return;
      }
      const body = new FormData(documentForm);
      const sending = input.files[0];
      const button = documentForm.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch(config.sendUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
        });
        if (!response.ok) {
          const data = await response.json().catch(() => ({}));
          error.textContent = data.message || texts.sendFailed;
          error.hidden = false;
        } else if (input.files[0] === sending) {
          input.value = ""; // sent (unless another file was chosen meanwhile)
        }
      } catch (e) {
        error.textContent = texts.sendFailed;
        error.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
  }

  function showWaiting() {
    if (practitioner) {
      say(state.peerPresent ? texts.patientWaiting : texts.patientAbsent);
      if (admitButton) {
        admitButton.disabled = !state.peerPresent || state.admitted;
        admitButton.hidden = state.admitted;
      }
      if (autoAdmit) autoAdmit.closest("p").hidden = state.admitted;
    } else if (!state.admitted) {
      say(texts.waiting);
    }
  }

  async function stats() {
    if (!pc || pc.connectionState !== "connected") return;
    const report = await pc.getStats();
    const figures = {};
    let bytes = 0;
    report.forEach((entry) => {
      if (entry.type === "inbound-rtp" && entry.kind === "video") {
        figures.frames_decoded = entry.framesDecoded || 0;
        figures.freeze_count = entry.freezeCount || 0;
        figures.freeze_seconds = entry.totalFreezesDuration || 0;
        if (entry.jitter !== undefined) figures.jitter_ms = entry.jitter * 1000;
        const lost = entry.packetsLost || 0;
        const received = entry.packetsReceived || 0;
        figures.loss_percent = received + lost > 0 ? (100 * Math.max(lost, 0)) / (received + lost) : 0;
      }
      if (entry.type === "inbound-rtp") bytes += entry.bytesReceived || 0;
      if (entry.type === "candidate-pair" && entry.nominated && entry.currentRoundTripTime !== undefined) {
        figures.rtt_ms = entry.currentRoundTripTime * 1000;
      }
    });
    if (lastBytes !== null) figures.bitrate_kbps = Math.max(0, (bytes - lastBytes) * 8) / 5000;
    lastBytes = bytes;
    send({ type: "stats", ...figures });
  }

  async function onMessage(event) {
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "hello":
        mark("hello");
        state.iceServers = message.iceServers;
        state.admitted = message.admitted;
        messages.replaceChildren(); // a reconnection brings the whole history again
        (message.chat || []).forEach((m) => chatLine(m.side || "", m.text));
        (message.documents || []).forEach(documentLine);
        send({ type: "presence" }); // at once: the camera is being opened meanwhile
        showWaiting();
        prepareAhead();
        break;
      case "joined":
      case "presence":
        if (message.side !== config.side) {
          state.peerPresent = true;
          if (message.type === "joined") send({ type: "presence" });
          showWaiting();
          if (practitioner && !state.admitted && autoAdmit && autoAdmit.checked) admit();
          else if (practitioner && state.admitted && !pc) await call();
        }
        break;
      case "admitted":
        mark("admitted");
        if (message.offered) {
          // Let in by the server on the patient's arrival, with the offer made ahead.
          state.peerPresent = true;
          const at = Date.parse(message.at) - performance.timeOrigin; // the server's clock
          if (Number.isFinite(at)) state.marks.admit = Math.round(at);
        }
        state.admitted = true;
        showWaiting();
        if (!pc) await call(message.offered);
        break;
      case "offer":
        await onOffer(message);
        break;
      case "answer":
        await onAnswer(message);
        break;
      case "candidate":
        addCandidate(message);
        break;
      case "chat":
        chatLine(message.side, message.text);
        break;
      case "document":
        documentLine(message);
        break;
      case "quality":
        if (quality && message.side !== config.side) {
          quality.textContent = message.flagged ? texts.qualityPoor : texts.qualityGood;
          quality.classList.toggle("poor", message.flagged);
        }
        break;
      case "left":
        if (message.side !== config.side) {
          state.peerPresent = false;
          closePeer();
          say(texts.left);
          showWaiting();
        }
        break;
      case "ended":
        state.ended = true;
        closePeer();
        prepareAhead(); // retires it
        if (localStream) localStream.getTracks().forEach((track) => track.stop());
        say(texts.ended);
        document.querySelectorAll(".visio-controls button").forEach((b) => (b.disabled = true));
        break;
      default:
        break;
    }
  }

  let failures = 0;
  function connect() {
    // The head's socket the first time (with what it heard so far), a new one after.
    const opened = early && early.socket;
    socket = opened || new WebSocket(config.wsUrl);
    socket.onopen = () => {
      failures = 0;
      mark("socket");
    };
    socket.onmessage = (event) => onMessage(event).catch(() => {});
    socket.onclose = (event) => {
      if (state.ended) return;
      if (event.code === 4410) {
        // The room closed (the call was ended, the appointment cancelled or over): the page,
        // reloaded, says which and shows what stays (once: never a loop of reloads).
        if (reloadOnce()) return;
      }
      if (event.code === 4403 || event.code === 4410 || event.code === 4401) {
        say(texts.refused);
        return;
      }
      failures += 1;
      say(failures > 2 ? texts.offline : texts.reconnecting);
      setTimeout(connect, Math.min(1500 * failures, 10000));
    };
    if (opened) {
      early.socket = null;
      if (early.opened) socket.onopen();
      early.messages.forEach(socket.onmessage);
      if (early.closed) socket.onclose(early.closed);
    }
  }

  function reloadOnce() {
    const key = "consulto.visio.reloaded." + location.pathname;
    try {
      const last = Number(sessionStorage.getItem(key) || 0);
      if (Date.now() - last < 10000) return false;
      sessionStorage.setItem(key, String(Date.now()));
    } catch (e) {
      /* storage refused: reload all the same, the server decides what the page shows */
    }
    window.location.reload();
    return true;
  }

  document.getElementById("visio-chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("visio-chat-text");
    const text = input.value.trim();
    if (text) send({ type: "chat", text });
    input.value = "";
  });
  function toggle(buttonId, kind, onText, offText) {
    const button = document.getElementById(buttonId);
    button.addEventListener("click", () => {
      const tracks = localStream ? localStream.getTracks().filter((t) => t.kind === kind) : [];
      const enabled = !(tracks[0] && tracks[0].enabled);
      tracks.forEach((t) => (t.enabled = enabled));
      button.setAttribute("aria-pressed", String(!enabled));
      button.textContent = enabled ? onText : offText;
    });
  }
  toggle("visio-mic", "audio", texts.micOn, texts.micOff);
  toggle("visio-cam", "video", texts.camOn, texts.camOff);
  function admit() {
    // The offer leaves with the admission, not after the server's echo of it.
    mark("admit");
    send({ type: "admit" });
    state.admitted = true;
    showWaiting();
    if (!pc) call().catch(() => {});
  }
  if (admitButton) admitButton.addEventListener("click", admit);
  if (autoAdmit) {
    try {
      autoAdmit.checked = window.localStorage.getItem(AUTO_ADMIT_KEY) === "1";
    } catch (e) {
      /* storage refused (private mode): the box starts unticked */
    }
    autoAdmit.addEventListener("change", () => {
      try {
        window.localStorage.setItem(AUTO_ADMIT_KEY, autoAdmit.checked ? "1" : "0");
      } catch (e) {
        /* not kept, still applies to this page */
      }
      if (autoAdmit.checked && state.peerPresent && !state.admitted) admit();
      else arm();
    });
  }
  // Ending is confirmed first: it stops the call for both sides and marks the appointment seen.
  const endButton = document.getElementById("visio-end");
  const endDialog = document.getElementById("visio-end-dialog");
  if (endButton && endDialog) {
    endButton.addEventListener("click", () => {
      endDialog.returnValue = "";
      endDialog.showModal();
    });
    endDialog.addEventListener("close", () => {
      if (endDialog.returnValue === "end") send({ type: "end" });
      else endButton.focus();
    });
  }
  window.addEventListener("online", () => restart());
  setInterval(() => stats().catch(() => {}), 5000);
  connect(); // the socket first: the call waits for it, the camera is needed later
  media();

  function waitForOpening() {
    // Counted from the server's "opens in N seconds", on this browser's clock; checked every
    // few seconds too, so that a computer waking from sleep catches up.
    const due = Date.now() + (config.opensInSeconds + 1) * 1000;
    const status = document.getElementById("visio-status");
    const check = () => {
      if (Date.now() < due) return;
      if (status) status.textContent = texts.opening;
      window.location.reload();
    };
    setInterval(check, 5000);
    setTimeout(check, Math.min(due - Date.now(), 2 ** 31 - 1));
  }

  function patientFile() {
    // The practitioner's side: the file is fetched (and its reading audited) when first opened;
    // a note is added from the panel, which comes back with it.
    const panel = document.getElementById("visio-file");
    if (!panel || !config.fileUrl) return;
    const body = document.getElementById("visio-file-body");
    let loaded = false;
    async function show(response) {
      if (response.status >= 500 || response.status === 403) throw new Error(String(response.status));
      body.innerHTML = await response.text();
      const saved = document.getElementById("visio-note-saved");
      const invalid = body.querySelector(".has-error textarea");
      if (invalid) invalid.focus();
      else if (saved) saved.focus();
    }
    function failed() {
      const line = document.createElement("p");
      line.className = "error";
      line.setAttribute("role", "alert");
      line.textContent = texts.fileFailed;
      body.prepend(line);
    }
    panel.addEventListener("toggle", async () => {
      if (!panel.open || loaded) return;
      loaded = true;
      try {
        await show(await fetch(config.fileUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }));
      } catch (e) {
        loaded = false;
        failed();
      }
    });
    body.addEventListener("submit", async (event) => {
      const form = event.target;
      if (form.id !== "visio-note-form") return;
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const data = new FormData(form);
      try {
        await show(
          await fetch(form.action, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: { "X-Requested-With": "fetch", "X-CSRFToken": data.get("csrfmiddlewaretoken") },
          })
        );
      } catch (e) {
        button.disabled = false;
        failed();
      }
    });
  }
})();
