// Agenda settings: after htmx swaps the preview to another period, move the focus to its
// first line, so keyboard and screen-reader users land on what changed.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "preview-body") {
    const range = document.getElementById("preview-range");
    if (range) range.focus();
  }
});
