// A plugin's page form that may be filled without a network (docs/offline.md, "Plugin pages"):
//
//   <form method="post" data-offline-endpoint="/api/v1/p/grid/visits" data-offline-user="{{ current_user.id }}"
//         data-offline-title="登记走访：…" data-offline-schema="{{ BODY|tojson }}" data-offline-body='{"address": 5}'
//         data-offline-rules="grid-visit" data-offline-preview="purpose">
//
// Online the form posts as always (photos over their limit made smaller first). Offline, 提交 builds the JSON body of the endpoint from the
// controls named by the schema's properties (trimmed text, blank left out unless required;
// integers as numbers; a checkbox as true/false; files of an input marked data-offline-base64
// kept as files, sent as base64 strings; a photo over the input's data-offline-max-bytes, or
// over its share of data-offline-total-bytes, is made smaller as a JPEG first, as a phone's
// camera photos are several MB), checks it as the server would (static/form-rules.js,
// plus the plugin's own rules registered as FqOfflineRules[name](body, files) → [{pointer,
// message}]) and keeps it in 待上传 (static/offline-queue.js): same page, states and rules as
// the forms. ?outbox={id} reopens an item the server refused, with its errors on the fields.
/* global FqOutbox, FqRules */
(function () {
  "use strict";
  var form = document.querySelector("form[data-offline-endpoint][data-offline-user]");
  if (!form || !window.FqOutbox || !window.indexedDB) return;
  var user = form.getAttribute("data-offline-user");
  var endpoint = form.getAttribute("data-offline-endpoint");
  var schema = JSON.parse(form.getAttribute("data-offline-schema") || "{}");
  var fixed = JSON.parse(form.getAttribute("data-offline-body") || "{}");
  var props = schema.properties || {};
  var editing = null; // the refused queue item being corrected

  // A page kept from an earlier day: the date the server filled in is today's in Shanghai.
  var today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  form.querySelectorAll("input[type=date][data-offline-today]").forEach(function (el) {
    if (el.value === el.defaultValue && el.value < today) el.value = today;
  });

  function controls(name) { return form.querySelectorAll('[name="' + CSS.escape(name) + '"]'); }
  function fileInput(name) {
    var found = controls(name);
    return found.length && found[0].type === "file" && found[0].hasAttribute("data-offline-base64") ? found[0] : null;
  }

  // The controls → {body, files}, as the page's own POST handler reads them (and as the
  // service worker reads a post the network dropped: FqOutbox.jsonBody).
  function collect() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { pairs.push([name, value]); });
    return FqOutbox.jsonBody(schema, fixed, pairs);
  }

  // A photo made to fit ``limit`` bytes: scaled to at most 1600 px, then smaller and rougher
  // until it fits; one that cannot be read is left as it is (the checks then name it).
  function shrink(file, limit) {
    if (file.size <= limit || !/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      function attempt(scale, quality) {
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); }).then(function (blob) {
          if (blob && blob.size <= limit) {
            return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
          }
          return scale < 0.15 ? file : attempt(scale * 0.7, 0.7);
        });
      }
      return attempt(Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height)), 0.82);
    }).catch(function () { return file; });
  }

  function fitted(files) {
    var names = {};
    files.forEach(function (pair) { names[pair[0]] = (names[pair[0]] || 0) + 1; });
    return Promise.all(files.map(function (pair) {
      var input = fileInput(pair[0]);
      if (!input) return pair;
      var most = parseInt(input.getAttribute("data-offline-max-bytes"), 10) || Infinity;
      var total = parseInt(input.getAttribute("data-offline-total-bytes"), 10) || Infinity;
      var limit = Math.min(most, Math.floor(total / names[pair[0]]));
      return limit === Infinity ? pair : shrink(pair[1], limit).then(function (f) { return [pair[0], f]; });
    }));
  }

  // The server's checks, first message per field. Files count by a stand-in (their bytes are
  // the plugin's rules' to judge: size and type).
  function problems(found) {
    var stand = JSON.parse(JSON.stringify(found.body));
    var byName = {};
    found.files.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Object.keys(byName).forEach(function (name) { delete stand[name]; });
    var out = window.FqRules ? FqRules.problems(schema, stand) : [];
    var name = form.getAttribute("data-offline-rules");
    var extra = name && window.FqOfflineRules && window.FqOfflineRules[name];
    if (extra) out = out.concat(extra(found.body, byName));
    var seen = {};
    return out.filter(function (p) { if (seen[p.pointer]) return false; seen[p.pointer] = true; return true; });
  }

  function notice(kind, text, link) { FqOutbox.notice(form, kind, text, link); }

  function fieldOf(pointer) {
    var name = pointer.replace(/^\//, "").split("/")[0];
    return form.querySelector('[data-pointer="' + CSS.escape(pointer) + '"]') ||
      form.querySelector('[data-field="' + CSS.escape(name) + '"]');
  }

  function clearErrors() {
    form.querySelectorAll(".error.client-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".client-invalid").forEach(function (el) { el.classList.remove("has-error", "client-invalid"); });
  }

  function showErrors(found, intro) {
    var unplaced = [];
    found.forEach(function (p) {
      var field = fieldOf(p.pointer);
      if (!field) { unplaced.push(p.message); return; }
      var box = document.createElement("div");
      box.className = "error client-error";
      box.setAttribute("role", "alert");
      box.textContent = p.message;
      field.classList.add("has-error", "client-invalid");
      field.appendChild(box);
    });
    notice("error", intro + unplaced.join("；"));
  }

  function labels() {
    var out = {};
    Object.keys(props).forEach(function (name) { if (props[name].title) out[name] = props[name].title; });
    return out;
  }

  function preview() {
    var name = form.getAttribute("data-offline-preview");
    var el = name && controls(name)[0];
    if (!el) return "";
    var text = el.tagName === "SELECT" ? (el.selectedOptions[0] || {}).textContent || "" : el.value || "";
    return Array.from(text.trim()).slice(0, 30).join("");
  }

  // Online the page posts as always, with any photo over its limit made smaller first (a
  // phone's camera photo is several MB; the server takes 1 MB a photo).
  var shrunk = false;
  function postOnline(event) {
    if (shrunk || !window.DataTransfer) return;
    var inputs = Array.prototype.filter.call(form.querySelectorAll("input[type=file][data-offline-base64]"),
      function (input) { return input.files && input.files.length; });
    var pairs = [];
    inputs.forEach(function (input) {
      Array.prototype.forEach.call(input.files, function (file) { pairs.push([input.name, file]); });
    });
    if (!pairs.some(function (pair) { return pair[1].size > (parseInt(fileInput(pair[0]).getAttribute("data-offline-max-bytes"), 10) || Infinity); })
        && pairs.reduce(function (sum, pair) { return sum + pair[1].size; }, 0) <= (parseInt((inputs[0] || form).getAttribute("data-offline-total-bytes"), 10) || Infinity)) {
      return;
    }
    event.preventDefault();
    fitted(pairs).then(function (files) {
      inputs.forEach(function (input) {
        var kept = new DataTransfer();
        files.forEach(function (pair) { if (pair[0] === input.name) kept.items.add(pair[1]); });
        input.files = kept.files;
      });
      shrunk = true;
      form.submit(); // no submit event: posts once, natively
    });
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine && !editing) { postOnline(event); return; }
    event.preventDefault();
    clearErrors();
    var found = collect();
    fitted(found.files).then(function (files) {
      found.files = files;
      checkAndQueue(found);
    });
  });

  function checkAndQueue(found) {
    var wrong = problems(found);
    if (wrong.length) { showErrors(wrong, "提交的内容有 " + wrong.length + " 处需要修改，请查看标红的项目。"); return; }
    var item = FqOutbox.newJsonItem(user, {
      endpoint: endpoint, page: location.pathname, title: form.getAttribute("data-offline-title") || document.title,
      body: found.body, files: found.files, labels: labels(), preview: preview(),
    });
    if (editing) { item.id = editing.id; item.created = editing.created; } // changed content: a new key
    FqOutbox.put(item).then(function () {
      if (window.FqOffline) window.FqOffline.requestSync();
      if (navigator.onLine && window.FqOffline) {
        return window.FqOffline.drain(true).then(function () { window.location.href = "/outbox"; });
      }
      editing = null;
      form.reset();
      notice("success", "已保存到待上传，联网后自动提交。", true);
      return null;
    }).catch(function (err) { notice("error", FqOutbox.storageProblem(err)); });
  }

  // ---- reopening a refused item ----

  function refill(item) {
    form.reset();
    Object.keys(item.body || {}).forEach(function (name) {
      if (name in fixed) return;
      var value = item.body[name];
      controls(name).forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") el.checked = value === true || String(value) === el.value;
        else if (el.type !== "file") el.value = String(value);
      });
    });
    var byName = {};
    (item.files || []).forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Object.keys(byName).forEach(function (name) {
      var input = fileInput(name);
      if (!input || !window.DataTransfer) return;
      var dt = new DataTransfer();
      byName[name].forEach(function (f) { dt.items.add(f instanceof File ? f : new File([f], "photo", { type: f.type })); });
      input.files = dt.files;
    });
  }

  var wanted = new URLSearchParams(window.location.search).get("outbox");
  if (wanted) {
    FqOutbox.get(wanted).then(function (item) {
      if (!item || item.user !== user || item.kind !== "json" || item.endpoint !== endpoint || item.page !== location.pathname) return;
      editing = item;
      refill(item);
      showErrors(item.errors || [], "这份待上传的记录未通过审核：" + (item.message || "内容需要修改") + "。请按标红的提示修改后重新提交。");
    });
  }
})();
