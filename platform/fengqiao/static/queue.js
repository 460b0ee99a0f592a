// Progressive enhancement for the queue's bulk bar: the server checks every case anyway.
// - "select all" and a running count of the selected cases
// - bulk buttons and transitions enabled only when every selected case offers them
// - a transition's extra fields shown (and submitted) only when it declares them
(function () {
  "use strict";

  var form = document.getElementById("queue-bulk-form");
  if (!form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="cases"]'));
  var all = document.getElementById("pick-all");
  var count = document.getElementById("picked-count");
  var transition = document.getElementById("bulk-transition");
  var assignee = document.getElementById("bulk-assignee");

  function picked() {
    return boxes.filter(function (b) { return b.checked; });
  }

  // Actions every selected case offers (the intersection of their data-actions).
  function common(rows) {
    if (!rows.length) return null;
    var shared = null;
    rows.forEach(function (box) {
      var names = (box.closest("tr").getAttribute("data-actions") || "").split(" ").filter(Boolean);
      shared = shared === null ? names : shared.filter(function (n) { return names.indexOf(n) >= 0; });
    });
    return shared;
  }

  function showFields() {
    var option = transition && transition.selectedOptions[0];
    var wanted = option ? (option.getAttribute("data-fields") || "").split(" ") : [];
    form.querySelectorAll(".bulk-field").forEach(function (field) {
      var on = wanted.indexOf(field.getAttribute("data-field")) >= 0;
      field.hidden = !on;
      field.querySelectorAll("select, textarea, input").forEach(function (c) { c.disabled = !on; });
    });
  }

  function refresh() {
    var rows = picked();
    var shared = common(rows);
    if (count) count.textContent = String(rows.length);
    if (all) all.checked = rows.length > 0 && rows.length === boxes.length;
    form.querySelectorAll("button[data-needs]").forEach(function (button) {
      var needs = button.getAttribute("data-needs");
      if (needs === "transition") {
        button.disabled = !shared || !transition || !transition.value || shared.indexOf(transition.value) < 0;
      } else if (needs === "assign") {
        button.disabled = !shared || shared.indexOf(needs) < 0 || !assignee || !assignee.value;
      } else {
        button.disabled = !shared || shared.indexOf(needs) < 0;
      }
    });
    if (transition) {
      Array.prototype.forEach.call(transition.options, function (option) {
        if (option.value) option.disabled = !!shared && shared.indexOf(option.value) < 0;
      });
      if (transition.selectedOptions[0] && transition.selectedOptions[0].disabled) transition.value = "";
    }
    showFields();
  }

  boxes.forEach(function (b) { b.addEventListener("change", refresh); });
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
  }
  if (transition) transition.addEventListener("change", refresh);
  if (assignee) assignee.addEventListener("change", refresh);
  refresh();
})();
