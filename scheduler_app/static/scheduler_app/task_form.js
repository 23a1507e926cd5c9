/* The task page's form shows the fields of the chosen schedule type only (the mapping comes
   from the page: #sched-fields-by-type). Without this script every field is shown and works;
   a row with an error stays shown. */
(function () {
  "use strict";

  function showFieldsFor(form, fieldsByType, type) {
    var all = [];
    Object.keys(fieldsByType).forEach(function (key) {
      fieldsByType[key].forEach(function (name) {
        if (all.indexOf(name) === -1) { all.push(name); }
      });
    });
    var wanted = fieldsByType[type] || all;
    all.forEach(function (name) {
      var row = form.querySelector(".form-row.field-" + name);
      if (row) {
        row.hidden = wanted.indexOf(name) === -1 && !row.classList.contains("errors");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_schedule_type");
    var mapping = document.getElementById("sched-fields-by-type");
    if (!select || !select.form || !mapping) { return; }
    var fieldsByType = JSON.parse(mapping.textContent);
    showFieldsFor(select.form, fieldsByType, select.value);
    select.addEventListener("change", function () {
      showFieldsFor(select.form, fieldsByType, select.value);
    });
  });
}());
