// Integrations pages: a "Copy" button for a secret or an example (shown only when it can work).
for (const button of document.querySelectorAll("[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.status);
  if (!source || !status || !navigator.clipboard) continue;
  if (source.tagName === "INPUT") source.addEventListener("focus", () => source.select());
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText("value" in source && source.tagName === "INPUT" ? source.value : source.textContent);
      status.textContent = button.dataset.done;
    } catch {
      status.textContent = button.dataset.failed;
    }
  });
}
