// New appointment form: show the fields of the chosen kind of patient (a file or a new one).
(function () {
  "use strict";
  var form = document.querySelector(".new-appointment");
  if (!form) return;
  function sync() {
    var checked = form.querySelector("input[name=patient_kind]:checked");
    var kind = checked ? checked.value : "file";
    form.querySelectorAll("[data-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-kind") !== kind;
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "patient_kind") sync();
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
  sync();
})();
