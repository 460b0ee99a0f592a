// The address picker: a text field with data-address-search becomes a combobox that offers
// standard addresses (小区/楼栋/门牌) as the resident types. Picking one fills the field with the
// address's label; the server then routes the case to that address's grid. Without this script,
// or without an address provider (no data-address-search), the field is a plain text input.
// ARIA 1.2 combobox pattern: arrow keys move through the list, Enter picks, Esc closes.
(function () {
  "use strict";

  var MIN = 2, MAX = 40, DELAY = 250;
  var counter = 0;

  function words(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  function enhance(input) {
    var url = input.getAttribute("data-address-search");
    var id = "address-list-" + (++counter);
    var list = document.createElement("ul");
    var status = document.createElement("div");
    var hits = [], active = -1, timer = null, asked = 0, picked = null;
    // 「提交后由 X 受理」: a picked address decides it, unless the page names the unit itself
    var explicit = input.form && input.form.querySelector("input[type=hidden][name=org]");
    var landing = explicit ? null : document.querySelector(".landing[data-org] strong");
    var usual = landing ? landing.textContent : "";

    list.id = id;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "标准地址");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.parentNode.classList.add("address-picker");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      var hit = hits[index];
      if (!hit) return;
      input.value = hit.label;
      picked = hit.label;
      close();
      status.textContent = "已选择 " + hit.label + "，由" + hit.org.name + "受理";
      if (landing) landing.textContent = hit.org.name;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(items) {
      hits = items;
      list.textContent = "";
      items.forEach(function (hit, i) {
        var option = document.createElement("li");
        var org = document.createElement("span");
        option.id = id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-code", hit.code);
        org.className = "address-org";
        org.textContent = " · " + hit.org.name;
        option.appendChild(document.createTextNode(hit.label));
        option.appendChild(org);
        // mousedown, not click: the input keeps focus, so blur does not close the list first
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(i);
        });
        list.appendChild(option);
      });
      if (!items.length) {
        close();
        status.textContent = "没有找到匹配的标准地址，可直接填写";
        return;
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
      status.textContent = "找到 " + items.length + " 个地址，按上下键选择，回车确认";
    }

    function search() {
      var q = words(input.value);
      if (q.length < MIN || q.length > MAX || q === picked) {
        close();
        return;
      }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { items: [] }; })
        .then(function (body) {
          if (mine === asked) show(body.items || []); // a slower, older answer is dropped
        })
        .catch(function () { if (mine === asked) close(); });
    }

    input.addEventListener("input", function () {
      picked = null;
      if (landing) landing.textContent = usual;
      clearTimeout(timer);
      timer = setTimeout(search, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { search(); return; }
        highlight(active + 1 < hits.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active > 0 ? active - 1 : hits.length - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault(); // picking is not submitting
          pick(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init() {
    document.querySelectorAll("input[data-address-search]").forEach(enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
