// Calendar sync page: a "Copy" button for the secret address (shown only when it can work).
for (const button of document.querySelectorAll("[data-copy]")) {
  const input = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.status);
  if (!input || !navigator.clipboard) continue;
  input.addEventListener("focus", () => input.select());
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = button.dataset.done;
    } catch {
      input.focus();
      status.textContent = button.dataset.failed;
    }
  });
}
