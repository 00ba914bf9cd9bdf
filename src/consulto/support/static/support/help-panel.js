// The help panel: the header's "Help" link opens it over the page the user is on (the server
// learns that page from the request's Referer), rather than leaving it. Without JavaScript,
// or if the panel cannot load, the link opens the help page.
(function () {
  const link = document.querySelector("a[data-help-panel]");
  if (!link || !window.HTMLDialogElement) return;
  link.addEventListener("click", async (event) => {
    event.preventDefault();
    let dialog = document.getElementById("help-panel");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "help-panel";
      dialog.className = "help-panel";
      dialog.setAttribute("aria-labelledby", "help-panel-title");
      document.body.append(dialog);
    }
    try {
      const url = new URL(link.href, location.href);
      url.searchParams.set("panel", "1");
      const response = await fetch(url, { headers: { "X-Requested-With": "fetch" } });
      if (!response.ok) throw new Error(String(response.status));
      dialog.innerHTML = await response.text();
    } catch {
      location.href = link.href;
      return;
    }
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => link.focus(), { once: true });
    dialog.showModal();
  });
})();
