// The agent's call to the customer's phone: the browser's audio goes to Janus's SIP plugin, which
// calls the number through the platform's SIP trunk. Our server drives Janus: over the WebSocket
// below it takes the offer and ICE candidates and sends back Janus's answer and how the call goes
// (calling, ringing, answered, ended); the browser never holds Janus's secret nor the trunk's.
// Mute, hang up; hold is the contact's form (call.js sends it in the background and says so with
// a "support:controls" event): the microphone off and the phone's sound muted.
(function () {
  const box = document.querySelector("[data-phone-ws]");
  if (!box) return;
  const status = box.querySelector("[data-phone-status]");
  const callButton = box.querySelector("[data-phone-call]");
  const muteButton = box.querySelector("[data-phone-mute]");
  const hangupButton = box.querySelector("[data-phone-hangup]");
  const remote = box.querySelector("audio");
  const texts = JSON.parse(document.getElementById("phone-texts").textContent);
  const state = { pc: null, socket: null, stream: null, iceServers: [], muted: false, answered: false };
  window.supportPhone = state; // read by the browser tests (state.pc.getStats())

  function say(text) { status.textContent = text; }
  function show(button, on) { button.hidden = !on; }

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
    }
  }

  function held() { return Boolean(document.querySelector("[data-on-hold]")); }

  function applyHold() {
    const onHold = held();
    if (state.stream) {
      for (const track of state.stream.getAudioTracks()) track.enabled = !onHold && !state.muted;
    }
    remote.muted = onHold;
    if (!state.pc) return;
    if (onHold) say(texts.onHold);
    else if (state.answered) say(texts.connected);
  }

  async function call() {
    show(callButton, false);
    say(texts.calling);
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch {
      say(texts.noMicrophone);
      show(callButton, true);
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: state.iceServers });
    state.pc = pc;
    state.answered = false;
    pc.onicecandidate = (event) => {
      const found = event.candidate;
      send(found ? { type: "candidate", candidate: found.candidate, sdpMid: found.sdpMid,
                     sdpMLineIndex: found.sdpMLineIndex }
                 : { type: "candidate", candidate: "" });
    };
    pc.ontrack = (event) => {
      remote.srcObject = event.streams[0] || new MediaStream([event.track]);
      remote.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") { send({ type: "hangup" }); stop(texts.failed); }
    };
    for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "offer", sdp: pc.localDescription.sdp });
    show(muteButton, true);
    show(hangupButton, true);
    applyHold();
  }

  function stop(text) {
    if (state.pc) state.pc.close();
    if (state.stream) for (const track of state.stream.getTracks()) track.stop();
    state.pc = null;
    state.stream = null;
    state.answered = false;
    state.muted = false;
    box.dataset.phone = "ended";
    muteButton.setAttribute("aria-pressed", "false");
    muteButton.textContent = texts.mute;
    show(muteButton, false);
    show(hangupButton, false);
    show(callButton, Boolean(state.socket && state.socket.readyState === WebSocket.OPEN));
    say(text);
  }

  // The server says why a call that was never answered ended.
  const outcomes = { busy: "busy", no_answer: "noAnswer", unreachable: "unreachable", failed: "failed" };
  function ended(message) { return texts[outcomes[message.outcome]] || texts.ended; }

  async function onMessage(message) {
    if (message.type === "hello") {
      state.iceServers = message.iceServers || [];
      if (!state.pc) show(callButton, true);
    } else if (message.type === "ringing" && state.pc) {
      box.dataset.phone = "ringing";
      if (!held()) say(texts.ringing);
    } else if (message.type === "answer" && state.pc && state.pc.signalingState === "have-local-offer") {
      await state.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    } else if (message.type === "answered" && state.pc) {
      state.answered = true;
      box.dataset.phone = "connected";
      applyHold();
      if (!held()) say(texts.connected);
    } else if (message.type === "ended" && state.pc) {
      stop(ended(message));
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + box.dataset.phoneWs);
    state.socket = socket;
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = (event) => {
      // The server hangs the phone up when this connection goes: so does the page.
      if (state.pc) stop(texts.ended);
      show(callButton, false);
      if (event.code === 4401 || event.code === 4403) { say(texts.closed); return; }
      setTimeout(connect, 2000);
    };
  }

  callButton.addEventListener("click", call);
  muteButton.addEventListener("click", () => {
    if (!state.stream) return;
    state.muted = !state.muted;
    muteButton.setAttribute("aria-pressed", String(state.muted));
    muteButton.textContent = state.muted ? texts.unmute : texts.mute;
    applyHold();
  });
  hangupButton.addEventListener("click", () => {
    send({ type: "hangup" });
    stop(texts.ended);
  });
  // Forms that end the contact (hang up, wrap up, transfer) hang the phone up first.
  document.addEventListener("submit", (event) => {
    if (state.pc && event.target.matches("[data-ends-call]")) {
      send({ type: "hangup" });
      stop(texts.ended);
    }
  });
  document.addEventListener("support:controls", applyHold);

  connect();
})();
