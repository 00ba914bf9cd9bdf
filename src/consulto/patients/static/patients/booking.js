// The booking pages: the countdown of a held slot, and the relative's fields shown on demand.
(function () {
  "use strict";

  // The server sends the seconds left, counted by its own clock; the page counts them down on
  // the monotonic clock, so a device whose date or time is off still shows the right time left.
  function countdown(box) {
    var end = window.performance.now() + parseInt(box.dataset.seconds, 10) * 1000;
    var remaining = box.querySelector(".remaining");
    var live = box.querySelector("[data-live]");
    var expired = document.querySelector(".expired-notice");
    var announced = {};
    function tick() {
      var left = Math.max(0, Math.round((end - window.performance.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      remaining.textContent = " (" + minutes + ":" + seconds + ")";
      // Screen readers hear the time left at a few moments, not every second.
      [300, 120, 60].forEach(function (mark) {
        if (left <= mark && left > mark - 5 && !announced[mark]) {
          announced[mark] = true;
          live.textContent = box.dataset.liveTemplate
            ? box.dataset.liveTemplate.replace("%s", String(mark / 60))
            : "";
        }
      });
      if (left === 0) {
        box.hidden = true;
        if (expired) { expired.hidden = false; }
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function relativeFields() {
    var group = document.querySelector("[data-show-when]");
    if (!group) { return; }
    var radios = document.querySelectorAll("input[name='patient']");
    function sync() {
      var chosen = document.querySelector("input[name='patient']:checked");
      var show = chosen && chosen.value === group.dataset.showWhen;
      group.hidden = !show;
    }
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  document.querySelectorAll(".countdown[data-seconds]").forEach(countdown);
  relativeFields();
})();
