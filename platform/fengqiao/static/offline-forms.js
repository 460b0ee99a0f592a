// The fill page of a signed-in user (forms/fill.html): without a network, 提交 keeps the form
// in 待上传 (static/offline-queue.js) instead of failing; /forms/{key}?outbox={id} reopens a
// queued item the server refused, with its errors on the fields, to fix and send again.
/* global FqOutbox */
(function () {
  "use strict";
  var form = document.querySelector("form.defined-form[data-offline-user]");
  if (!form || !window.FqOutbox || !window.indexedDB) return;
  var user = form.getAttribute("data-offline-user");
  var editing = null; // the queue item being corrected

  function notice(kind, text, link) { FqOutbox.notice(form, kind, text, link); }

  function pairs(submitter) {
    var data = new FormData(form, submitter || undefined);
    var out = [];
    data.forEach(function (value, name) { out.push([name, value]); });
    return out;
  }

  function orgOf() {
    var el = form.querySelector('[name="org"]');
    return el && el.value ? el.value : null;
  }

  // The form's definition (the worker keeps it for offline use); null when there is none.
  function definition(key, version) {
    var url = "/api/v1/forms/" + encodeURIComponent(key) + "?version=" + version;
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function clearClientErrors() {
    form.querySelectorAll(".error.client-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".field.client-invalid").forEach(function (el) { el.classList.remove("has-error", "client-invalid"); });
  }

  // The server's checks run here first (static/form-rules.js): what fails them is shown on
  // its field as the server would, and nothing is queued. Photos count by a stand-in id.
  function clientProblems(def, pairs) {
    if (!def || !window.FqRules) return [];
    var converted = FqOutbox.convert(def.schema, pairs);
    converted.files.forEach(function (slot) { FqOutbox.listAt(converted.data, slot.pointer).push("att_offline_photo_0000"); });
    return FqRules.check(def, converted.data);
  }

  function showClientErrors(found) {
    found.forEach(function (p) {
      var field = form.querySelector('.field[data-pointer="' + CSS.escape(p.pointer) + '"]');
      if (!field) return;
      var box = document.createElement("div");
      box.className = "error client-error";
      box.setAttribute("role", "alert");
      box.textContent = p.message;
      field.classList.add("has-error", "client-invalid");
      field.appendChild(box);
    });
    var unplaced = found.filter(function (p) { return !form.querySelector('.field[data-pointer="' + CSS.escape(p.pointer) + '"]'); });
    notice("error", "提交的内容有 " + found.length + " 处需要修改，请查看标红的项目。" +
      unplaced.map(function (p) { return p.message; }).join("；"));
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && (submitter.name === "_row" || submitter.value === "save_draft")) return;
    if (navigator.onLine && !editing) return; // online: the page posts as always
    event.preventDefault();
    var key = form.getAttribute("data-form-key");
    var title = (document.querySelector(".page-head h1") || {}).textContent || key;
    var version = parseInt(form.querySelector('[name="fq_version"]').value, 10);
    var posted = pairs(submitter);
    clearClientErrors();
    definition(key, version).then(function (def) {
      var found = clientProblems(def, posted);
      if (found.length) { showClientErrors(found); return; }
      enqueue(FqOutbox.newItem(user, key, title.trim(), version, orgOf(), posted));
    });
  });

  function enqueue(item) {
    if (editing) {
      // Corrected content is a new submission: a new key (the refused one stored nothing).
      item.id = editing.id;
      item.created = editing.created;
    }
    FqOutbox.put(item).then(function () {
      if (window.FqOffline) window.FqOffline.requestSync();
      if (navigator.onLine && window.FqOffline) {
        return window.FqOffline.drain(true).then(function () { window.location.href = "/outbox"; });
      }
      editing = null;
      form.reset();
      document.querySelectorAll(".kept-file").forEach(function (el) { el.remove(); });
      form.dispatchEvent(new Event("change"));
      notice("success", "已保存到待上传，联网后自动提交。", true);
      return null;
    }).catch(function (err) { notice("error", FqOutbox.storageProblem(err)); });
  }

  // ---- reopening a refused item ----

  function setValue(name, value) {
    var controls = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    controls.forEach(function (el) {
      if (el.type === "file") {
        if (typeof value === "object" && value && value.name && window.DataTransfer) {
          var dt = new DataTransfer();
          Array.prototype.forEach.call(el.files || [], function (f) { dt.items.add(f); });
          dt.items.add(value);
          el.files = dt.files;
        }
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.value === value) el.checked = true;
      } else if (typeof value === "string") {
        el.value = value;
      }
    });
  }

  // Rows posted as parties-0, parties-2 (one removed in between) refill rows 0 and 1.
  function renumberRows(entries) {
    form.querySelectorAll("fieldset.group").forEach(function (group) {
      var prefix = group.getAttribute("data-group") + "-", seen = [];
      entries.forEach(function (e) {
        var n = parseInt(e[0].slice(prefix.length), 10);
        if (e[0].indexOf(prefix) === 0 && !isNaN(n) && seen.indexOf(n) < 0) seen.push(n);
      });
      seen.sort(function (a, b) { return a - b; });
      entries.forEach(function (e) {
        if (e[0].indexOf(prefix) !== 0) return;
        var rest = e[0].slice(prefix.length), n = parseInt(rest, 10);
        if (!isNaN(n)) e[0] = prefix + seen.indexOf(n) + rest.slice(String(n).length);
      });
    });
    return entries;
  }

  function ensureRows(entries) {
    form.querySelectorAll("fieldset.group").forEach(function (group) {
      var prefix = group.getAttribute("data-group") + "-", wanted = {};
      entries.forEach(function (e) {
        if (e[0].indexOf(prefix) === 0) wanted[parseInt(e[0].slice(prefix.length), 10)] = true;
      });
      var need = Object.keys(wanted).length, guard = 50;
      var add = group.querySelector('button[name="_row"][value^="add:"]');
      while (add && group.querySelectorAll(".group-row").length < need && guard-- > 0) add.click();
    });
  }

  function showErrors(item) {
    (item.errors || []).forEach(function (e) {
      var field = form.querySelector('.field[data-pointer="' + CSS.escape(e.pointer) + '"]');
      var box = document.createElement("div");
      box.className = "error";
      box.setAttribute("role", "alert");
      box.textContent = e.message;
      if (field) { field.classList.add("has-error"); field.appendChild(box); }
    });
    notice("error", "这份待上传的表单未通过审核：" + (item.message || "内容需要修改") + "。请按标红的提示修改后重新提交。");
  }

  var wanted = new URLSearchParams(window.location.search).get("outbox");
  if (wanted) {
    FqOutbox.get(wanted).then(function (item) {
      if (!item || item.user !== user || item.key !== form.getAttribute("data-form-key")) return;
      editing = item;
      form.reset();
      form.querySelectorAll('input[type="checkbox"], input[type="radio"]').forEach(function (el) { el.checked = false; });
      var entries = renumberRows(item.entries.map(function (e) { return [e[0], e[1]]; }));
      ensureRows(entries);
      entries.forEach(function (e) { setValue(e[0], e[1]); });
      form.dispatchEvent(new Event("change"));
      showErrors(item);
    });
  }
})();
