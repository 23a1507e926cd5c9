/* Live preview of a scheduling form: shows the fields of the chosen schedule
   type and asks the preview endpoint for the description and next runs. */
(function () {
  "use strict";
  // The schedule's fields and which each type shows come from the page
  // (scheduler_app.schedules.form_layout), so this script repeats none of them.
  function layoutOf(root) {
    return JSON.parse(root.getAttribute("data-schedule-layout") || '{"fields": [], "optional": [], "byType": {}}');
  }

  function fieldInput(root, name) {
    return root.querySelector('[name="' + name + '"]');
  }

  function showFieldsFor(root, type) {
    var layout = layoutOf(root);
    var visible = layout.byType[type] || [];
    layout.optional.forEach(function (name) {
      var row = root.querySelector('[data-field="' + name + '"]');
      if (row) { row.hidden = visible.indexOf(name) === -1; }
    });
  }

  function render(root, payload) {
    var description = root.querySelector('[data-preview="description"]');
    var error = root.querySelector('[data-preview="error"]');
    var runs = root.querySelector('[data-preview="runs"]');
    var heading = root.querySelector('[data-preview="runs-heading"]');
    description.textContent = payload.description || "";
    var messages = [];
    Object.keys(payload.errors || {}).forEach(function (key) {
      // Name the field each message is about: "Cron expression: ...".
      var label = root.querySelector('label[for="id_' + key + '"]');
      var prefix = label ? label.textContent.replace(/:\s*$/, "").trim() + ": " : "";
      payload.errors[key].forEach(function (message) { messages.push(prefix + message); });
    });
    error.textContent = messages.join(" ");
    error.hidden = messages.length === 0;
    runs.textContent = "";
    if (heading) { heading.hidden = !(payload.runs || []).length; }
    (payload.runs || []).forEach(function (run) {
      var item = document.createElement("li");
      item.textContent = run.text;
      if (run.note) {
        var note = document.createElement("span");
        note.className = "help";
        note.textContent = " " + run.note;
        item.appendChild(note);
      }
      runs.appendChild(item);
    });
    root.setAttribute("data-preview-state", payload.valid ? "valid" : "invalid");
  }

  function refresh(root) {
    var params = new URLSearchParams();
    layoutOf(root).fields.forEach(function (name) {
      var input = fieldInput(root, name);
      if (input) { params.set(name, input.value); }
    });
    var seq = (root._previewSeq || 0) + 1;
    root._previewSeq = seq;
    root.setAttribute("data-preview-state", "loading");
    fetch(root.getAttribute("data-preview-url") + "?" + params.toString(), {
      credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) { return response.json(); })
      .then(function (payload) { if (seq === root._previewSeq) { render(root, payload); } })
      .catch(function () { root.setAttribute("data-preview-state", "error"); });
  }

  function init(root) {
    var timer = null;
    var typeInput = fieldInput(root, "schedule_type");
    if (typeInput) { showFieldsFor(root, typeInput.value); }
    var live = root.hasAttribute("data-preview-url");  // no preview without scheduler_app.urls
    function schedule() {
      if (!live) { return; }
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(root); }, 250);
    }
    layoutOf(root).fields.forEach(function (name) {
      var input = fieldInput(root, name);
      if (!input) { return; }
      input.addEventListener("input", schedule);
      input.addEventListener("change", function () {
        if (name === "schedule_type") { showFieldsFor(root, input.value); }
        schedule();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".sched-form").forEach(init);
  });
}());
