// Progressive enhancement for defined forms: the server round-trip already works without it.
// - show/hide fields governed by if/then conditions (data-show-if: one field's value) or by
//   ui.relevant (data-relevant: an expression tree, evaluated by FqRules.relevant of
//   form-rules.js); a hidden field's inputs are disabled, so nothing stale is posted, and
//   it counts as empty for the conditions of other fields, as on the server
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
    if (value === undefined || Array.isArray(value)) return false;
    for (var i = 0; i < expected.length; i++) {
      if (String(expected[i]) === String(value)) return true;
    }
    return false;
  }

  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  var RULED = "[data-show-if],[data-relevant]";

  function kindOf(el) {
    var field = el.closest(".field");
    var m = field && /(?:^|\s)kind-([a-z]+)/.exec(field.className);
    return m ? m[1] : "text";
  }

  // What the server makes of control ``name`` (forms.render._typed, then normalise): nothing
  // from a disabled control, numbers for number fields, undefined for an empty value.
  function submittedValue(form, name) {
    var all = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    if (!all.length) return undefined;
    var kind = kindOf(all[0]);
    var live = Array.prototype.filter.call(all, function (el) { return !el.disabled; });
    var checked = live.filter(function (el) { return el.checked; });
    if (kind === "boolean") return checked.length > 0;
    if (kind === "checkboxes") return checked.length ? checked.map(function (el) { return el.value; }) : undefined;
    if (kind === "radio") return checked.length ? checked[0].value : undefined;
    if (kind === "file" || kind === "image") {
      var files = [];
      live.forEach(function (el) { Array.prototype.forEach.call(el.files || [], function (f) { files.push(f.name); }); });
      form.querySelectorAll('[name="' + CSS.escape(name + "__kept") + '"]').forEach(function (el) {
        if (!el.disabled) files.push(el.value);
      });
      return files.length ? files : undefined;
    }
    if (!live.length || live[0].value === "") return undefined;
    if (kind === "integer" || kind === "number") {
      var text = live[0].value.trim().replace(/[，,]/g, "");
      var n = NUMBER.test(text) ? Number(text) : NaN;
      return isFinite(n) && (kind === "number" || Number.isInteger(n)) ? n : undefined;
    }
    return live[0].value;
  }

  function shown(form, el) {
    var scope = el.getAttribute("data-scope") || "";
    var tree = el.getAttribute("data-relevant");
    if (tree) {
      if (!window.FqRules) return true; // without the evaluator the field stays (the server still checks)
      tree = JSON.parse(tree);
      var values = {};
      FqRules.references(tree).forEach(function (name) {
        var value = submittedValue(form, scope + name);
        if (value !== undefined) values[name] = value;
      });
      return FqRules.relevant(tree, values);
    }
    var rule = JSON.parse(el.getAttribute("data-show-if"));
    return matches(submittedValue(form, scope + rule.field), rule.values) !== rule.negate;
  }

  // Inputs inside a hidden field are disabled (and marked, so only those are enabled again).
  function syncDisabled(form) {
    form.querySelectorAll(RULED).forEach(function (el) {
      el.querySelectorAll("input, select, textarea").forEach(function (control) {
        var off = !!control.closest("[data-show-if][hidden], [data-relevant][hidden]");
        if (off && !control.disabled) {
          control.disabled = true;
          control.setAttribute("data-fq-off", "");
        } else if (!off && control.hasAttribute("data-fq-off")) {
          control.disabled = false;
          control.removeAttribute("data-fq-off");
        }
      });
    });
  }

  function refresh(form) {
    var ruled = form.querySelectorAll(RULED);
    // A field hidden in one pass empties the values others test: repeat until nothing changes.
    for (var pass = 0; pass <= ruled.length; pass++) {
      var changed = false;
      ruled.forEach(function (el) {
        var hide = !shown(form, el);
        if (el.hidden !== hide) { el.hidden = hide; changed = true; }
      });
      syncDisabled(form);
      if (!changed) break;
    }
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
    clone.querySelectorAll("[data-scope]").forEach(function (el) {
      var scope = el.getAttribute("data-scope");
      if (scope.indexOf(oldName + "-") === 0) el.setAttribute("data-scope", newName + scope.slice(oldName.length));
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
      refresh(form);
    });
    refresh(form);
  });
})();
