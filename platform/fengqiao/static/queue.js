// Progressive enhancement for the staff queue (/queues); the page works without it.
// Columns (列): the menu's boxes follow what is on screen (narrow tables drop low-priority
//   columns by CSS container queries), a tick or untick is remembered in this browser, and
//   恢复默认 forgets it. Escape or a click elsewhere closes the menu. A table that fits scrolls
//   with the page (.fits); a wider one in its own box (tables.css).
// Bulk bar: "select all" and a running count (on cards also in a link down to the bar that
//   stays in view); buttons enabled only when every selected case
//   offers the action; the 流转 select lists only the transitions every selected case offers
//   (its type's group; for cases of several types one shared group); a transition's extra
//   fields shown (and submitted) only when it declares them. The server checks every case anyway.
(function () {
  "use strict";

  var region = document.getElementById("queue-region");
  var menu = document.getElementById("col-menu");
  if (!region || !menu) return;
  var KEY = "fengqiao.queue.columns";
  var boxes = Array.prototype.slice.call(menu.querySelectorAll("input[data-col]:not(:disabled)"));
  var known = boxes.map(function (b) { return b.getAttribute("data-col"); });
  var reset = menu.querySelector(".col-reset");
  var wrap = region.querySelector(".table-sticky");
  var chosen = load();

  // {column: true (show) | false (hide)}; anything else stored is ignored
  function load() {
    var stored = {};
    try { stored = JSON.parse(window.localStorage.getItem(KEY) || "{}") || {}; } catch (e) { stored = {}; }
    var clean = {};
    known.forEach(function (col) { if (typeof stored[col] === "boolean") clean[col] = stored[col]; });
    return clean;
  }

  function save() {
    try {
      if (Object.keys(chosen).length) window.localStorage.setItem(KEY, JSON.stringify(chosen));
      else window.localStorage.removeItem(KEY);
    } catch (e) { /* private mode: the choice lasts for this page only */ }
  }

  // A table that fits its width scrolls with the page (its header sticking below the top bar);
  // one wider than that scrolls in its own box, the header row and 编号 sticking in there.
  function fit() {
    if (!wrap) return;
    wrap.classList.remove("fits");
    wrap.classList.toggle("fits", wrap.scrollWidth <= wrap.clientWidth);
  }

  // Each box says whether its column is on screen now (the width rules included).
  function sync() {
    fit();
    boxes.forEach(function (box) {
      var th = region.querySelector('th[data-col="' + box.getAttribute("data-col") + '"]');
      box.checked = !!th && window.getComputedStyle(th).display !== "none";
    });
    if (reset) reset.hidden = !Object.keys(chosen).length;
  }

  function apply() {
    known.forEach(function (col) {
      region.classList.toggle("show-" + col, chosen[col] === true);
      region.classList.toggle("hide-" + col, chosen[col] === false);
    });
    sync();
  }

  region.classList.add("cols-js");  // the classes decide from now on, not the boxes' :checked
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      chosen[box.getAttribute("data-col")] = box.checked;
      save();
      apply();
    });
  });
  if (reset) {
    reset.addEventListener("click", function () {
      chosen = {};
      save();
      apply();
      menu.querySelector("summary").focus();
    });
  }
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  var width = null;  // only a change of width matters (.fits changes the height)
  function resized() {
    if (region.clientWidth === width) return;
    width = region.clientWidth;
    sync();
  }
  if (window.ResizeObserver) new window.ResizeObserver(resized).observe(region);
  else window.addEventListener("resize", resized);
  apply();
})();

(function () {
  "use strict";

  var form = document.getElementById("queue-bulk-form");
  if (!form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="cases"]'));
  var all = document.getElementById("pick-all");
  var count = document.getElementById("picked-count");
  var transition = document.getElementById("bulk-transition");
  var hint = document.getElementById("bulk-transition-hint");
  var assignee = document.getElementById("bulk-assignee");
  var jump = document.querySelector(".bulk-jump");  // cards: a link down to the bar
  var typed = transition ? Array.prototype.slice.call(transition.querySelectorAll("option[data-type]")) : [];
  var mixed = null;  // the optgroup made for a selection of several types

  function picked() {
    return boxes.filter(function (b) { return b.checked; });
  }

  function unique(list) {
    return list.filter(function (item, i) { return list.indexOf(item) === i; });
  }

  function words(element, name) {
    return (element.getAttribute(name) || "").split(" ").filter(Boolean);
  }

  // Actions every selected case offers (the intersection of their data-actions).
  function common(rows) {
    if (!rows.length) return null;
    var shared = null;
    rows.forEach(function (box) {
      var names = words(box.closest("tr"), "data-actions");
      shared = shared === null ? names : shared.filter(function (n) { return names.indexOf(n) >= 0; });
    });
    return shared;
  }

  // One option per transition every selected case offers, titled per type where they differ.
  function mixedGroup(types, shared) {
    var group = document.createElement("optgroup");
    group.label = "所选 " + types.length + " 种类型共有";
    shared.forEach(function (name) {
      var same = typed.filter(function (o) { return o.value === name && types.indexOf(o.getAttribute("data-type")) >= 0; });
      if (!same.length) return;  // claim/assign: buttons of their own
      var titles = unique(same.map(function (o) { return o.getAttribute("data-title"); }));
      var label = titles.length === 1 ? titles[0] : same.map(function (o) {
        return o.getAttribute("data-title") + "（" + o.parentNode.label + "）";
      }).join(" / ");
      var option = new Option(label + (same.some(function (o) { return o.hasAttribute("data-needs-comment"); }) ? "（需填意见）" : ""), name);
      option.setAttribute("data-fields", unique([].concat.apply([], same.map(function (o) { return words(o, "data-fields"); }))).join(" "));
      group.appendChild(option);
    });
    return group.children.length ? group : null;
  }

  function offerTransitions(rows, shared) {
    if (!transition) return;
    var before = transition.value;
    var types = unique(rows.map(function (box) { return box.closest("tr").getAttribute("data-type"); }));
    if (mixed) mixed.remove();
    mixed = types.length > 1 ? mixedGroup(types, shared) : null;
    typed.forEach(function (option) {
      var on = types.length === 1 && option.getAttribute("data-type") === types[0] && shared.indexOf(option.value) >= 0;
      option.hidden = !on;
      option.disabled = !on;
    });
    transition.querySelectorAll("optgroup[data-type]").forEach(function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
    if (mixed) transition.appendChild(mixed);
    var offered = Array.prototype.filter.call(transition.options, function (o) { return o.value && !o.hidden && !o.disabled; });
    transition.options[0].textContent = !rows.length ? "请先选择事项" : offered.length ? "请选择操作" : "所选事项没有共同的流转操作";
    var keep = offered.filter(function (o) { return o.value === before; })[0];
    if (keep) keep.selected = true;
    else transition.selectedIndex = 0;
    if (hint) {
      hint.textContent = types.length > 1 && offered.length
        ? "所选事项含 " + types.length + " 种类型，只列出每件都可办理的操作" : "";
    }
  }

  function showFields() {
    var option = transition && transition.selectedOptions[0];
    var wanted = option ? words(option, "data-fields") : [];
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
    if (jump) {
      jump.hidden = !rows.length;
      jump.querySelector(".bulk-jump-count").textContent = String(rows.length);
    }
    if (all) all.checked = rows.length > 0 && rows.length === boxes.length;
    offerTransitions(rows, shared || []);
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
