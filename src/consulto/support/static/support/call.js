// The in-product support call: audio only, between the agent's console and the customer's page,
// through the call's signaling WebSocket and the platform's relay servers (TURN).
// The agent calls; the customer's page rings and they pick up (a click: browsers only play
// sound and open the microphone after one). Mute, hang up; hold is the agent's (their
// microphone off and the customer's sound muted, counted by the server).
(function () {
  const box = document.querySelector("[data-call-ws]");
  if (!box) return;
  const side = box.dataset.callSide;
  const status = box.querySelector("[data-call-status]");
  const callButton = box.querySelector("[data-call-start]");
  const answerButton = box.querySelector("[data-call-answer]");
  const muteButton = box.querySelector("[data-call-mute]");
  const hangupButton = box.querySelector("[data-call-hangup]");
  const remote = box.querySelector("audio");
  const texts = JSON.parse(document.getElementById("call-texts").textContent);
  const state = { pc: null, socket: null, stream: null, iceServers: [], pendingOffer: null, other: false };
  window.supportCall = state; // read by the browser tests (state.pc.getStats())

  function say(text) { status.textContent = text; }
  function show(button, on) { if (button) button.hidden = !on; }

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
    }
  }

  async function microphone() {
    state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    return state.stream;
  }

  function connection() {
    const pc = new RTCPeerConnection({ iceServers: state.iceServers });
    pc.onicecandidate = (event) => {
      if (event.candidate) {
        send({ type: "candidate", candidate: event.candidate.candidate,
               sdpMid: event.candidate.sdpMid, sdpMLineIndex: event.candidate.sdpMLineIndex });
      }
    };
    pc.ontrack = (event) => { remote.srcObject = event.streams[0]; remote.play().catch(() => {}); };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") { say(texts.connected); box.dataset.connected = "on"; }
      if (pc.connectionState === "failed") say(texts.failed);
    };
    for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);
    state.pc = pc;
    return pc;
  }

  async function call() {
    show(callButton, false);
    say(texts.calling);
    try {
      await microphone();
    } catch {
      say(texts.noMicrophone);
      show(callButton, true);
      return;
    }
    const pc = connection();
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "offer", sdp: pc.localDescription.sdp });
    show(muteButton, true);
    show(hangupButton, true);
  }

  async function answer() {
    show(answerButton, false);
    try {
      await microphone();
    } catch {
      say(texts.noMicrophone);
      show(answerButton, true);
      return;
    }
    const pc = connection();
    await pc.setRemoteDescription({ type: "offer", sdp: state.pendingOffer });
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: "answer", sdp: pc.localDescription.sdp });
    say(texts.connecting);
    show(muteButton, true);
    show(hangupButton, true);
  }

  function stop(text) {
    if (state.pc) state.pc.close();
    if (state.stream) for (const track of state.stream.getTracks()) track.stop();
    state.pc = null;
    state.stream = null;
    box.dataset.connected = "off";
    show(muteButton, false);
    show(hangupButton, false);
    show(answerButton, false);
    if (side === "agent") show(callButton, state.other);
    say(text);
  }

  async function onMessage(message) {
    if (message.type === "hello") {
      state.iceServers = message.iceServers || [];
      send({ type: "presence" });
      if (side === "customer") say(texts.waiting);
    } else if (message.type === "joined" || message.type === "presence") {
      state.other = true;
      if (side === "agent" && !state.pc) { say(texts.customerHere); show(callButton, true); }
      if (message.type === "joined") send({ type: "presence" });
    } else if (message.type === "left") {
      state.other = false;
      if (side === "agent" && !state.pc) { say(texts.customerAway); show(callButton, false); }
    } else if (message.type === "offer" && side === "customer") {
      state.pendingOffer = message.sdp;
      say(texts.ringing);
      show(answerButton, true);
      answerButton.focus();
    } else if (message.type === "answer" && state.pc) {
      await state.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    } else if (message.type === "candidate" && state.pc) {
      try {
        await state.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid,
                                         sdpMLineIndex: message.sdpMLineIndex });
      } catch { /* a candidate for a connection already closed */ }
    } else if (message.type === "hangup") {
      stop(texts.ended);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + box.dataset.callWs);
    state.socket = socket;
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (event.code === 4401 || event.code === 4403) { say(texts.closed); return; }
      setTimeout(connect, 2000);
    };
  }

  if (callButton) callButton.addEventListener("click", call);
  if (answerButton) answerButton.addEventListener("click", answer);
  if (muteButton) {
    muteButton.addEventListener("click", () => {
      if (!state.stream) return;
      const track = state.stream.getAudioTracks()[0];
      track.enabled = !track.enabled;
      muteButton.setAttribute("aria-pressed", String(!track.enabled));
      muteButton.textContent = track.enabled ? texts.mute : texts.unmute;
    });
  }
  if (hangupButton) {
    hangupButton.addEventListener("click", () => {
      send({ type: "hangup" });
      stop(texts.ended);
    });
  }
  // The agent's page keeps the call (this one, or the call to their phone: phone.js) while they
  // put it on hold, write a note or a reply: those forms are sent in the background and the
  // parts they change are swapped in ("support:controls" tells phone.js). Forms that end the
  // contact (hang up, wrap up, transfer) hang the call up first.
  function applyHold() {
    const held = Boolean(document.querySelector("[data-on-hold]"));
    if (state.stream) for (const track of state.stream.getAudioTracks()) track.enabled = !held;
    remote.muted = held;
    if (!state.pc) return;
    if (held) say(texts.onHold);
    else if (state.pc && state.pc.connectionState === "connected") say(texts.connected);
  }

  function phoneUp() { return Boolean(window.supportPhone && window.supportPhone.pc); }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!state.pc && !phoneUp()) return;
    if (form.matches("[data-ends-call]")) {
      if (state.pc) {
        send({ type: "hangup" });
        stop(texts.ended);
      }
      return;
    }
    if (!form.matches("[data-during-call]")) return;
    event.preventDefault();
    const response = await fetch(form.action || location.href, {
      method: "POST", body: new FormData(form), headers: { "X-Requested-With": "fetch" },
    });
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of form.dataset.duringCall.split(" ")) {
      const fresh = doc.getElementById(id);
      const old = document.getElementById(id);
      if (fresh && old) old.replaceWith(fresh);
    }
    applyHold();
    document.dispatchEvent(new Event("support:controls"));
  });

  connect();
})();
