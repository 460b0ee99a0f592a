/* The staff case page (cases/detail.html) and its print view (cases/print.html).
 * - 详情 / 流转记录 / 附件 / 关联事项: without JavaScript anchor links to sections that are all
 *   in the page; here an ARIA tabs widget (arrow keys, Home/End) that keeps the chosen tab in
 *   the URL hash, so a reload, a shared link or the redirect after an action reopens it.
 * - The header's action links open the action's form (inside a closed 更多 <details> too) and
 *   put the focus in it; Escape or a click elsewhere closes the 更多操作 menu.
 * - 打印 buttons call window.print() (the CSP allows no inline script). */
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var nav = document.querySelector("[data-case-tabs]");
  if (nav) tabs(nav);
  actionLinks();

  function tabs(list) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a[data-tab]"));
    var panels = links.map(function (a) { return document.getElementById(a.getAttribute("href").slice(1)); });
    if (!links.length || panels.some(function (p) { return !p; })) return;
    var keys = panels.map(function (p) { return p.id; });
    list.setAttribute("role", "tablist");
    document.documentElement.classList.add("case-tabs-on");
    links.forEach(function (a, i) {
      // The hash names the tab, no longer an element: loading #case-history selects the tab
      // without the browser scrolling past the header to the panel and focusing it.
      panels[i].id = keys[i] + "-panel";
      a.id = "tab-" + keys[i];
      a.setAttribute("role", "tab");
      a.setAttribute("aria-controls", panels[i].id);
      panels[i].setAttribute("role", "tabpanel");
      panels[i].setAttribute("aria-labelledby", a.id);
      panels[i].setAttribute("tabindex", "0");
      a.addEventListener("click", function (event) {
        event.preventDefault();
        select(i, true);
      });
      a.addEventListener("keydown", function (event) {
        var next = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: links.length - 1}[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select((next + links.length) % links.length, true);
      });
    });

    function select(index, focus) {
      links.forEach(function (a, i) {
        var on = i === index;
        a.setAttribute("aria-selected", on ? "true" : "false");
        a.setAttribute("tabindex", on ? "0" : "-1");
        panels[i].hidden = !on;
      });
      if (focus) {
        links[index].focus();
        try { window.history.replaceState(null, "", "#" + keys[index]); } catch (e) { /* file:// */ }
      }
    }

    // The tab a hash names, or the one whose panel holds the element it names.
    function fromHash() {
      var id = decodeURIComponent(window.location.hash.slice(1));
      if (keys.indexOf(id) >= 0) return keys.indexOf(id);
      var target = id && document.getElementById(id);
      if (!target) return -1;
      return panels.findIndex(function (p) { return p.contains(target); });
    }

    var start = fromHash();
    select(start < 0 ? 0 : start, false);
    window.addEventListener("hashchange", function () {
      var index = fromHash();
      if (index >= 0) select(index, false);
    });
  }

  function actionLinks() {
    var menu = document.querySelector("details.case-more");
    Array.prototype.forEach.call(document.querySelectorAll("a[data-open-action]"), function (link) {
      link.addEventListener("click", function (event) {
        var form = document.getElementById(link.getAttribute("href").slice(1));
        if (!form) return;
        event.preventDefault();
        var holder = form.closest("details");
        if (holder) holder.open = true;
        if (menu) menu.open = false;
        var first = form.querySelector("input:not([type=hidden]), select, textarea, button");
        form.scrollIntoView({block: "start"});
        if (first) first.focus({preventScroll: true});
      });
    });
    if (!menu) return;
    document.addEventListener("click", function (event) {  // a click elsewhere closes the menu
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }
})();
