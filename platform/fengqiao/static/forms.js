// Progressive enhancement for defined forms: the server round-trip already works without it.
// - show/hide fields governed by if/then conditions (data-show-if)
// - mark fields required once another is filled (data-required-if-filled)
// - add/remove rows of repeatable groups without reloading the page
(function () {
  "use strict";

  function controlValue(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    if (!inputs.length) return undefined;
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1) return first.checked;
    if (first.type === "radio" || first.type === "checkbox") {
      for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) return inputs[i].value;
      return "";
    }
    return first.value;
  }

  function matches(value, expected) {
    for (var i = 0; i < expected.length; i++) {
      if (String(expected[i]) === String(value)) return true;
    }
    return false;
  }

  function refresh(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      var rule = JSON.parse(el.getAttribute("data-show-if"));
      var shown = matches(controlValue(form, rule.field), rule.values) !== rule.negate;
      el.hidden = !shown;
    });
    form.querySelectorAll("[data-required-if-filled]").forEach(function (el) {
      var value = controlValue(form, el.getAttribute("data-required-if-filled"));
      el.classList.toggle("is-required", !!value);
    });
  }

  function renumber(group) {
    group.querySelectorAll(".group-row").forEach(function (row, i) {
      var no = row.querySelector(".row-no");
      if (no) no.textContent = i + 1;
    });
  }

  function addRow(group) {
    var rows = group.querySelectorAll(".group-row");
    var max = parseInt(group.getAttribute("data-max"), 10);
    if (max && rows.length >= max) return;
    var last = rows[rows.length - 1];
    var prefix = group.getAttribute("data-group");
    var next = 0;
    rows.forEach(function (row) {
      var n = parseInt(row.getAttribute("data-row").slice(prefix.length + 1), 10);
      if (n >= next) next = n + 1;
    });
    var oldName = last.getAttribute("data-row");
    var newName = prefix + "-" + next;
    var clone = last.cloneNode(true);
    clone.setAttribute("data-row", newName);
    clone.querySelectorAll("[name],[id],[for],[value]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v && v.indexOf(oldName + "-") === 0) el.setAttribute(attr, newName + v.slice(oldName.length));
      });
      if (el.name === "_row") el.value = "remove:" + newName;
      if (el.tagName === "INPUT" && (el.type === "checkbox" || el.type === "radio")) el.checked = false;
      else if (el.tagName === "INPUT" && el.type !== "hidden" && el.type !== "submit") el.value = "";
      else if (el.tagName === "TEXTAREA") el.value = "";
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
    });
    clone.querySelectorAll(".error, .kept-file").forEach(function (el) { el.remove(); });
    clone.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    last.after(clone);
    renumber(group);
  }

  function removeRow(group, row) {
    var min = parseInt(group.getAttribute("data-min"), 10) || 1;
    if (group.querySelectorAll(".group-row").length <= min) return;
    row.remove();
    renumber(group);
  }

  document.querySelectorAll("form.defined-form").forEach(function (form) {
    form.addEventListener("change", function () { refresh(form); });
    form.addEventListener("input", function () { refresh(form); });
    form.addEventListener("click", function (event) {
      var button = event.target.closest('button[name="_row"]');
      if (!button) return;
      var group = button.closest("fieldset.group");
      if (!group) return;
      event.preventDefault();
      if (button.value.indexOf("add:") === 0) addRow(group);
      else removeRow(group, button.closest(".group-row"));
    });
    refresh(form);
  });
})();
