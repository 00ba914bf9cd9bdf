// Small helps of the wizard; every screen works without them.
// - "You and your practice": picking one of the directory's places fills the address fields.
// - "Hours and motives": picking a template fills the week grid at once (the no-JS button hides).
(function () {
  "use strict";
  document.querySelectorAll('input[name="activity"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      const fill = { practice_name: "name", address: "address", postcode: "postcode", city: "city", phone: "phone" };
      Object.entries(fill).forEach(([field, key]) => {
        const input = document.getElementById("id_" + field);
        if (input) input.value = radio.dataset[key] || "";
      });
    });
  });

  const schedule = document.getElementById("schedule-form");
  if (!schedule) return;
  const apply = schedule.querySelector(".no-js-apply");
  if (apply) apply.hidden = true;
  schedule.querySelectorAll('input[name="template"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      const periods = JSON.parse(radio.dataset.periods);
      schedule.querySelectorAll('.week-grid input[type="time"]').forEach((input) => {
        input.value = "";
      });
      const used = {};
      periods.forEach(([day, start, end]) => {
        const slot = (used[day] = (used[day] || 0) + 1);
        const from = document.getElementById(`d${day}-s${slot}`);
        const to = document.getElementById(`d${day}-e${slot}`);
        if (from && to) {
          from.value = start;
          to.value = end;
        }
      });
    });
  });
})();
