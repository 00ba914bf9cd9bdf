// New appointment form: the chosen agenda's motives and free slots (fetched again when the
// agenda, the motive or the date changes), "another time" picked when one is typed, and the
// fields of the chosen kind of patient (a file or a new one; the stylesheet already shows only
// those, before this runs). Works without it: the buttons
// "Show the free slots" and "See <day>" send the form back for the same result.
(function () {
  "use strict";
  var form = document.querySelector(".new-appointment");
  if (!form) return;
  var slotsUrl = form.getAttribute("data-slots-url");
  var status = form.querySelector("[data-slots-status]");

  function syncKind() {
    var checked = form.querySelector("input[name=patient_kind]:checked");
    var kind = checked ? checked.value : "file";
    form.querySelectorAll("[data-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-kind") !== kind;
    });
  }

  function hideShowButtons() {
    form.querySelectorAll("[data-show-slots]").forEach(function (button) { button.hidden = true; });
  }

  // A changed time is a new question: the warnings about the former one no longer apply.
  function forgetCautions() {
    var cautions = form.querySelector("[data-cautions]");
    if (cautions) cautions.remove();
    var book = form.querySelector("[data-book]");
    if (book) book.hidden = false;
  }

  function value(name) {
    var field = form.querySelector("[name=" + name + "]");
    return field ? field.value : "";
  }

  // The slots on screen while others load belong to the former question: they cannot be
  // picked (a pick there would be lost, or be of the wrong day), and only the answer to the
  // latest question is shown.
  var asked = 0;
  function busy(on) {
    var slots = form.querySelector("#slots");
    if (!slots) return;
    slots.setAttribute("aria-busy", on ? "true" : "false");
    var choice = slots.querySelector("fieldset");
    if (choice) choice.disabled = on;
  }

  // whole: replace motive, date and slots (the agenda changed, or "See <day>"); else the slots.
  function refresh(whole, day, focusFirst) {
    var question = ++asked;
    busy(true);
    var query = new URLSearchParams({
      agenda: value("agenda"),
      motive: whole && !day ? "" : value("motive"),
      date: day || value("date"),
      other_time: value("other_time"),
    });
    if (whole && !day) query.delete("motive");
    return fetch(slotsUrl + "?" + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .catch(function () { return null; })
      .then(function (html) {
        if (question !== asked) return;  // a later question is on its way
        if (html === null) { busy(false); return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var selector = whole ? "#when" : "#slots";
        var next = fresh.querySelector(selector);
        var current = form.querySelector(selector);
        if (!next || !current) { busy(false); return; }
        current.replaceWith(next);
        hideShowButtons();
        var slots = form.querySelector("#slots");
        if (status && slots) {
          status.textContent = "";
          window.setTimeout(function () { status.textContent = slots.getAttribute("data-summary"); }, 50);
        }
        if (focusFirst) {
          var first = form.querySelector("#slots input[name=time]");
          if (first) first.focus();
        }
      });
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "patient_kind") syncKind();
    if (["agenda", "motive", "date", "time", "other_time"].indexOf(name) >= 0) forgetCautions();
    if (name === "agenda") refresh(true);
    else if (name === "motive" || name === "date") refresh(false);
  });

  form.addEventListener("input", function (event) {
    if (event.target.name === "other_time") {
      var other = form.querySelector("input[name=time][value=other]");
      if (other) other.checked = true;
    }
  });

  form.addEventListener("click", function (event) {
    var next = event.target.closest("[data-next-free]");
    if (next) {
      event.preventDefault();
      forgetCautions();
      refresh(true, next.value, true);
      return;
    }
    var change = event.target.closest("[data-change-time]");
    if (change) {
      event.preventDefault();
      forgetCautions();
      var first = form.querySelector("#slots input[name=time]") || form.querySelector("#id_date");
      if (first) first.focus();
    }
  });

  var query = form.querySelector("input[name=query]");
  if (query) {
    // Enter in the search box searches instead of booking.
    query.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        form.querySelector("button[name=search]").click();
      }
    });
  }
  hideShowButtons();
  syncKind();
})();
