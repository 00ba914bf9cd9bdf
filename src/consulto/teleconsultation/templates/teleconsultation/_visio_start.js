// The first two steps of joining a call, taken from the page's head while the rest of the page
// loads: the room's socket is opened, then the camera and microphone asked for. visio.js takes
// both over (window.visioStart), with the messages that came meanwhile.
//
// Inlined in the head, before the stylesheets (views.py: the page's policy allows exactly this
// script, by its hash): fetched, it waited for its own request and the stylesheets before it.
(function () {
  "use strict";
  if (window.visio || window.visioStart) return;
  const script = document.currentScript;
  const url = script && script.dataset.wsUrl;
  if (!url || !window.WebSocket) return;
  const start = { marks: {}, messages: [], opened: false, closed: null };
  function mark(name) {
    if (!(name in start.marks)) start.marks[name] = Math.round(performance.now());
  }
  mark("start");
  // The socket first: the practitioner hears of the patient through it, and the call waits
  // for that; the camera is needed later, for the answer.
  start.socket = new WebSocket(url);
  start.socket.onopen = () => {
    start.opened = true;
    mark("socket");
  };
  start.socket.onmessage = (event) => start.messages.push(event);
  start.socket.onclose = (event) => {
    start.closed = event;
  };
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    start.media = navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    start.media.then(() => mark("media")).catch(() => {});
  }
  window.visioStart = start;
})();
