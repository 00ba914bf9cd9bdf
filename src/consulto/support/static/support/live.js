// Support pages that follow what happens: the server says "look again" on a WebSocket, the page
// fetches its live part again (through the same permission-checked view) and swaps it in.
// Offers count down each second. Without JavaScript the pages still work by reloading.
(function () {
  const root = document.querySelector("[data-live-ws]");
  if (!root) return;
  let delay = 1000;
  let pending = false;
  let again = false;
  let opened = false;

  // A change announced while a fetch is on its way may not be in what it brings back: fetch
  // once more when it ends.
  async function refresh() {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    again = false;
    try {
      const response = await fetch(root.dataset.liveUrl, { headers: { "X-Requested-With": "fetch" } });
      if (!response.ok) return;
      const html = await response.text();
      if (root.dataset.livePart) {
        const doc = new DOMParser().parseFromString(html, "text/html");
        const part = doc.getElementById(root.dataset.livePart);
        if (part) root.innerHTML = part.innerHTML;
      } else {
        root.innerHTML = html;
      }
      startCountdowns();
    } finally {
      pending = false;
      if (again) refresh();
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.liveWs);
    // What changed between the page's rendering and the socket's opening is fetched at once.
    socket.onopen = () => {
      delay = 1000;
      if (opened) refresh();
      else setTimeout(refresh, 0);
      opened = true;
      root.dataset.live = "on";
    };
    socket.onmessage = () => refresh();
    socket.onclose = (event) => {
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(() => { refresh(); connect(); }, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  let timer = null;
  function startCountdowns() {
    clearInterval(timer);
    const counters = root.querySelectorAll("[data-countdown]");
    if (!counters.length) return;
    const started = Date.now();
    timer = setInterval(() => {
      for (const counter of counters) {
        const left = Math.max(0, Number(counter.dataset.countdown) - Math.floor((Date.now() - started) / 1000));
        counter.firstChild.textContent = counter.textContent.replace(/\d+/, String(left));
        if (left === 0) refresh();
      }
    }, 1000);
  }

  startCountdowns();
  connect();
})();
