/* The staff sidebar (base.html): fold it to icons on a desk and remember that per browser;
 * close the phone drawer with Escape; scroll the current entry into the sidebar's view.
 * Loaded in <head> without defer, so a folded sidebar is folded before the first paint;
 * everything else waits for the page. Without JavaScript the sidebar stays open and the 菜单
 * drawer still works (it is a checkbox). */
(function () {
  "use strict";
  var KEY = "fengqiao.nav.folded";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function store(folded) {
    try { window.localStorage.setItem(KEY, folded ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  if (stored()) root.classList.add("nav-folded");

  function show(button, folded) {
    var label = folded ? "展开侧边栏" : "收起侧边栏";
    button.setAttribute("aria-expanded", folded ? "false" : "true");
    button.setAttribute("aria-label", label);
    button.title = label;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-nav-fold]");
    if (button) {
      show(button, root.classList.contains("nav-folded"));
      button.hidden = false;
      button.addEventListener("click", function () {
        var folded = root.classList.toggle("nav-folded");
        store(folded);
        show(button, folded);
      });
    }
    // The sidebar scrolls on its own: a long menu (an admin's 系统管理 under every module) would
    // leave the current entry below its fold, so bring the entry into the sidebar's view.
    var nav = document.getElementById("sidenav");
    var current = nav && nav.querySelector("[aria-current]");
    if (current) {
      var box = nav.getBoundingClientRect(), entry = current.getBoundingClientRect();
      if (entry.bottom > box.bottom || entry.top < box.top) {
        nav.scrollTop += entry.top - box.top - (box.height - entry.height) / 2;
      }
    }
    var drawer = document.getElementById("nav-toggle");
    if (drawer) {
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && drawer.checked) {
          drawer.checked = false;
          drawer.focus();
        }
      });
    }
  });
})();
