// The agenda page: one FullCalendar per agenda side by side, fed by one request per period,
// drag and drop to move, a click on an empty time to book, and live updates over a WebSocket.
// Times are the site's wall clock (the server writes them with "Z"; the calendar runs in UTC).
(function () {
  "use strict";
  var configEl = document.getElementById("agenda-config");
  if (!configEl || !window.FullCalendar) return;
  var cfg = JSON.parse(configEl.textContent);
  var liveStatus = document.querySelector("[data-live-status]");
  var alertBox = document.querySelector("[data-alert]");
  var container = document.querySelector("[data-calendars]");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = tokenInput ? tokenInput.value : "";
  var ids = cfg.agendas.map(function (a) { return a.id; }).join(",");
  var pending = {};
  var calendars = [];

  function say(text) {
    if (!liveStatus) return;
    liveStatus.textContent = "";
    window.setTimeout(function () { liveStatus.textContent = text; }, 50);
  }

  function warn(text) {
    if (!alertBox) return;
    alertBox.textContent = text;
    alertBox.hidden = false;
  }

  function load(start, end) {
    var key = start + "/" + end;
    if (!pending[key]) {
      var query = new URLSearchParams({ agendas: ids, start: start, end: end });
      pending[key] = fetch(cfg.eventsUrl + "?" + query, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).then(function (response) {
        if (!response.ok) throw new Error("events " + response.status);
        return response.json();
      });
      pending[key].catch(function () { delete pending[key]; });
    }
    return pending[key];
  }

  // aria-busy on the calendars while a refresh is pending or loading, so assistive technology
  // (and the browser tests) know the events are being replaced.
  var refreshTimer = null;
  var loadingCount = 0;
  function settle() {
    if (container) container.setAttribute("aria-busy", refreshTimer || loadingCount ? "true" : "false");
  }

  function refresh() {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      pending = {};
      calendars.forEach(function (calendar) { calendar.refetchEvents(); });
      var list = document.querySelector("[data-day-list]");
      if (list && cfg.listUrl) {
        var query = new URLSearchParams({ agendas: ids, date: cfg.date });
        fetch(cfg.listUrl + "?" + query, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) { if (html !== null) list.innerHTML = html; });
      }
      settle();
    }, 150);
    settle();
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      body: new URLSearchParams(fields),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  // The undo toast after a move: stays until used, closed or replaced by the next one.
  var toast = document.querySelector("[data-toast]");
  var undoUrl = null;
  function showToast(text, url) {
    if (!toast) return;
    toast.querySelector("[data-toast-text]").textContent = text;
    undoUrl = url;
    toast.querySelector("[data-toast-undo]").hidden = !url;
    toast.hidden = false;
  }
  function hideToast() {
    if (toast) toast.hidden = true;
    undoUrl = null;
  }
  if (toast) {
    toast.querySelector("[data-toast-close]").addEventListener("click", hideToast);
    toast.querySelector("[data-toast-undo]").addEventListener("click", function () {
      if (!undoUrl) return;
      var url = undoUrl;
      undoUrl = null;
      post(url, {})
        .then(function (result) {
          if (!result.ok) {
            hideToast();
            warn(cfg.texts.undoRefused + " " + (result.data.message || ""));
            return;
          }
          showToast(result.data.message, null);
          toast.querySelector("[data-toast-close]").focus();
          refresh();
        })
        .catch(function () { hideToast(); warn(cfg.texts.undoRefused); });
    });
  }

  // An unusual time (past, night, outside the openings) is asked about before moving there.
  var dialog = document.querySelector("[data-confirm-move]");
  function confirmMove(cautions) {
    return new Promise(function (resolve) {
      if (!dialog || !dialog.showModal) { resolve(false); return; }
      var list = dialog.querySelector("[data-confirm-list]");
      list.textContent = "";
      cautions.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      var done = function (answer) {
        dialog.removeEventListener("close", onClose);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      var onClose = function () { done(false); };
      dialog.addEventListener("close", onClose);
      dialog.querySelector("[data-confirm-yes]").onclick = function () { done(true); };
      dialog.querySelector("[data-confirm-no]").onclick = function () { done(false); };
      dialog.showModal();
      dialog.querySelector("[data-confirm-no]").focus();
    });
  }

  function move(info) {
    if (alertBox) alertBox.hidden = true;
    var url = cfg.moveUrl + info.event.id + "/deplacer/";
    var start = info.event.startStr;
    function refused(message) {
      info.revert();
      warn(cfg.texts.refused + (message ? " " + message : ""));
    }
    post(url, { start: start })
      .then(function (result) {
        if (!result.ok && result.data.error === "needs_confirmation") {
          return confirmMove(result.data.cautions || []).then(function (yes) {
            if (!yes) { info.revert(); return null; }
            // The server confirms the very start it warned about.
            return post(url, { start: start, confirmed: result.data.confirm || "" });
          });
        }
        return result;
      })
      .then(function (result) {
        if (result === null) return;
        if (!result.ok) { refused(result.data.message); return; }
        say(cfg.texts.moved);
        showToast(result.data.message, result.data.undoUrl);
        refresh();
      })
      .catch(function () { refused(""); });
  }

  // The calendars show 07:00-21:00, stretched (all alike, side by side) to show an appointment
  // booked earlier or later: one at 03:00 must not be invisible.
  function hoursOf(data) {
    var first = 7 * 60;
    var last = 21 * 60;
    Object.keys(data.agendas).forEach(function (key) {
      data.agendas[key].events.forEach(function (event) {
        if (event.display === "background") return;  // a blocked day does not stretch the hours
        var start = event.start.slice(11, 16).split(":");
        var end = event.end.slice(11, 16).split(":");
        first = Math.min(first, Number(start[0]) * 60 + Number(start[1]));
        var endMinutes = event.end.slice(0, 10) > event.start.slice(0, 10) ? 24 * 60 : Number(end[0]) * 60 + Number(end[1]);
        last = Math.max(last, endMinutes);
      });
    });
    function text(minutes) { return String(Math.floor(minutes / 60)).padStart(2, "0") + ":00:00"; }
    return { min: text(first), max: text(Math.ceil(last / 60) * 60) };
  }

  document.querySelectorAll("[data-agenda]").forEach(function (element) {
    var agendaId = element.getAttribute("data-agenda");
    var hours = "";
    var shownHours = { min: "07:00:00", max: "21:00:00" };
    var calendar = new FullCalendar.Calendar(element, {
      timeZone: "UTC",
      locale: cfg.locale,
      initialView: cfg.view === "week" ? "timeGridWeek" : "timeGridDay",
      initialDate: cfg.date,
      headerToolbar: false,
      allDaySlot: false,
      firstDay: 1,
      slotMinTime: "07:00:00",
      slotMaxTime: "21:00:00",
      slotDuration: "00:15:00",
      slotLabelInterval: "01:00",
      height: "auto",
      nowIndicator: true,
      now: cfg.now || undefined,
      editable: true,
      eventDurationEditable: false,
      selectable: true,
      selectMirror: true,
      events: function (info, success, failure) {
        load(info.startStr.slice(0, 10), info.endStr.slice(0, 10)).then(function (data) {
          var mine = data.agendas[agendaId] || { events: [], businessHours: [] };
          var range = hoursOf(data);
          if (range.min !== shownHours.min) calendar.setOption("slotMinTime", range.min);
          if (range.max !== shownHours.max) calendar.setOption("slotMaxTime", range.max);
          shownHours = range;
          var next = JSON.stringify(mine.businessHours);
          if (next !== hours) {
            hours = next;
            calendar.setOption("businessHours", mine.businessHours.length ? mine.businessHours : false);
          }
          success(mine.events);
        }, failure);
      },
      eventDrop: move,
      loading: function (isLoading) {
        loadingCount = Math.max(0, loadingCount + (isLoading ? 1 : -1));
        settle();
      },
      select: function (info) {
        var query = new URLSearchParams({ agenda: agendaId, start: info.startStr });
        window.location.assign(cfg.newUrl + "?" + query);
      },
      // The patient's name first: in a narrow column (a week of several agendas, a phone) it is
      // what shows; the time, motive and status follow when there is room.
      eventContent: function (arg) {
        var props = arg.event.extendedProps;
        if (!props.patient) return true;
        var frame = document.createElement("div");
        frame.className = "event-content";
        var name = document.createElement("span");
        name.className = "event-patient";
        name.textContent = props.patient;
        var detail = document.createElement("span");
        detail.className = "event-detail";
        detail.textContent = [arg.timeText, props.motive, props.status].filter(Boolean).join(" · ");
        frame.appendChild(name);
        if (props.referral) {
          var mark = document.createElement("span");
          mark.className = "event-referral";
          mark.textContent = props.referral;
          frame.appendChild(document.createTextNode(" "));
          frame.appendChild(mark);
        }
        frame.appendChild(document.createTextNode(" "));
        frame.appendChild(detail);
        return { domNodes: [frame] };
      },
      eventDidMount: function (info) {
        info.el.setAttribute("title", info.event.title);
      },
    });
    calendar.render();
    calendars.push(calendar);
  });

  var retry = 1000;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + cfg.wsPath + "?agendas=" + ids);
    socket.onopen = function () {
      retry = 1000;
      if (container) container.setAttribute("data-live", "on");
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "agenda.changed") {
        refresh();
        say(cfg.texts.updated);
      }
    };
    socket.onclose = function (event) {
      if (container) container.setAttribute("data-live", "off");
      if (event.code === 4401 || event.code === 4403) return;
      say(cfg.texts.offline);
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  if (calendars.length) connect();
})();
