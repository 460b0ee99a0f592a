// The offline queue (待上传), shared by the pages and the service worker (importScripts).
//
// A form submitted without a network is kept in IndexedDB exactly as the browser would have
// posted it (name/value pairs, photos as File blobs), with the form key, the pinned version,
// a fresh Idempotency-Key and the time. Sending turns the pairs into the JSON instance by the
// form's schema (as fengqiao.forms.render.extract does on the server), uploads each photo
// once (POST /api/v1/forms/{key}/uploads; the id is kept in the item, so a resend names the
// same ids) and posts the JSON with the Idempotency-Key: a duplicate send replays one case.
// The server's answer is final: 201/200 done, 422 kept with the field errors, anything
// else retried later with backoff.
(function (root) {
  "use strict";

  var DB_NAME = "fengqiao-offline";
  var STORE = "outbox";
  var LOCK = "fengqiao-outbox";
  var SHANGHAI = "+08:00";
  var MAX_BACKOFF = 30 * 60 * 1000;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var store = req.result.createObjectStore(STORE, { keyPath: "id" });
        store.createIndex("user", "user");
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // One request in its own transaction; resolves when the transaction has committed (a
  // QuotaExceededError arrives as the transaction's abort and is passed on, not swallowed).
  function run(mode, op) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var req = op(t.objectStore(STORE));
        var value;
        req.onsuccess = function () { value = req.result; };
        t.oncomplete = function () { db.close(); resolve(value); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error || req.error); };
      });
    });
  }

  function put(item) { return run("readwrite", function (s) { return s.put(item); }); }
  function get(id) { return run("readonly", function (s) { return s.get(id); }); }
  function remove(id) { return run("readwrite", function (s) { return s.delete(id); }); }
  function list(user) {
    return run("readonly", function (s) { return s.index("user").getAll(String(user)); }).then(function (items) {
      return items.sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }

  function uuid() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // A new queue item from a form's posted pairs (everything but the page's own controls).
  var PAGE_FIELDS = ["csrf_token", "fq_version", "_action", "_row", "org"];
  function newItem(user, key, title, version, org, pairs) {
    return {
      id: uuid(), user: String(user), key: key, title: title, version: version, org: org || null,
      entries: pairs.filter(function (p) { return PAGE_FIELDS.indexOf(p[0]) < 0; }),
      created: new Date().toISOString(), idempotency_key: uuid(), state: "queued",
      attempts: 0, next_try: 0, uploads: {}, errors: [], message: "", case_number: null,
    };
  }

  // A queue item for a plugin page's JSON write (static/offline-endpoint.js): ``endpoint`` a
  // path under /api/v1/p/, ``body`` the JSON without the photos, ``files`` [[field, Blob]] sent
  // as base64 strings in ``body[field]`` (encoded at each send, so a resend is the same body),
  // ``page`` the page that reopens a refused item, ``labels`` {field: title} for its errors.
  var PLUGIN_API = /^\/api\/v1\/p\/[a-z0-9_-]+\/[A-Za-z0-9_\/-]*$/;
  function newJsonItem(user, spec) {
    return {
      id: uuid(), user: String(user), kind: "json", endpoint: spec.endpoint, page: spec.page, title: spec.title,
      body: spec.body, files: spec.files || [], labels: spec.labels || {}, preview: spec.preview || "",
      key: null, version: null, org: null, entries: [],
      created: new Date().toISOString(), idempotency_key: uuid(), state: "queued",
      attempts: 0, next_try: 0, uploads: {}, errors: [], message: "", case_number: null,
    };
  }

  // A plugin form's posted pairs → {body, files} by the endpoint's JSON Schema, as the page's
  // own POST handler reads them: text trimmed, a blank one left out unless required; ASCII
  // digits of an integer field as a number (anything else stays text for the server to name);
  // a boolean true when its checkbox was posted; files (kept as files) under their field.
  function jsonBody(schema, fixed, pairs) {
    var props = (schema && schema.properties) || {}, required = (schema && schema.required) || [];
    var body = JSON.parse(JSON.stringify(fixed || {})), files = [];
    Object.keys(props).forEach(function (name) {
      if (name in body) return;
      var posted = pairs.filter(function (p) { return p[0] === name; }).map(function (p) { return p[1]; });
      var t = mainType(props[name]);
      if (posted.some(isFile)) {
        posted.forEach(function (f) { if (isFile(f) && f.name && f.size) files.push([name, f]); });
        return;
      }
      if (t === "boolean") { body[name] = posted.length > 0; return; }
      var raw = posted.length ? String(posted[0]).trim() : "";
      if (raw === "") {
        if (posted.length && required.indexOf(name) >= 0) body[name] = "";
        return;
      }
      body[name] = (t === "integer" || t === "number") && /^[0-9]{1,9}$/.test(raw) ? parseInt(raw, 10) : raw;
    });
    return { body: body, files: files };
  }

  function base64(blob) {
    return blob.arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer), chunks = [];
      for (var i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
      return btoa(chunks.join(""));
    });
  }

  // ---- the posted pairs → the JSON instance (mirrors fengqiao.forms.render._extract) ----

  function isFile(value) { return value !== null && typeof value === "object" && "size" in value; }
  function mainType(prop) {
    var t = prop.type;
    if (Array.isArray(t)) t = t.filter(function (x) { return x !== "null"; })[0];
    return t;
  }
  function choiceValues(prop) {
    if (Array.isArray(prop.enum)) return prop.enum;
    var options = prop.oneOf || prop.anyOf;
    return Array.isArray(options) ? options.map(function (o) { return o.const; }) : null;
  }
  function lookup(prop, raw) {
    var choices = choiceValues(prop) || [];
    for (var i = 0; i < choices.length; i++) if (String(choices[i]) === raw) return choices[i];
    return raw;
  }
  function filled(value) {
    if (Array.isArray(value)) return value.length > 0;
    if (value !== null && typeof value === "object") return Object.keys(value).some(function (k) { return filled(value[k]); });
    return value !== null && value !== undefined && value !== "" && value !== false;
  }
  function withOffset(raw, kind) {
    var m = kind === "date-time" ? /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.exec(raw) : /^\d\d:\d\d(:\d\d)?$/.exec(raw);
    if (!m) return raw; // already has an offset, or wrong: the server's format check reports it
    return raw + (m[1] ? "" : ":00") + SHANGHAI;
  }

  function convert(schema, entries) {
    var files = [];
    function values(name) {
      var out = [];
      entries.forEach(function (e, i) { if (e[0] === name) out.push({ value: e[1], index: i }); });
      return out;
    }
    function typed(prop, raw) {
      var t = mainType(prop);
      if (t === "integer" || t === "number") {
        var text = String(raw || "").trim().replace(/，/g, "").replace(/,/g, "");
        if (text === "") return null;
        var n = Number(text);
        if (!isFinite(n) || (t === "integer" && !Number.isInteger(n))) return text; // the server names it
        return n;
      }
      if (t === "boolean") return raw !== undefined && raw !== "" && raw !== "false";
      if (choiceValues(prop)) return raw === undefined || raw === "" ? null : lookup(prop, raw);
      if (raw === undefined) return null;
      if (prop.format === "date-time" || prop.format === "time") return raw ? withOffset(raw, prop.format) : raw;
      return raw;
    }
    function object(props, prefix, ptr) {
      var data = {};
      Object.keys(props || {}).forEach(function (name) {
        var prop = props[name] || {}, full = prefix + name, p = ptr + "/" + name, t = mainType(prop);
        var items = prop.items && typeof prop.items === "object" ? prop.items : {};
        if (t === "object" && prop.properties) {
          data[name] = object(prop.properties, full + "-", p);
        } else if (t === "array" && items.format === "attachment") {
          data[name] = values(full + "__kept").map(function (x) { return x.value; });
          values(full).forEach(function (x) {
            if (isFile(x.value) && x.value.name) files.push({ index: x.index, pointer: p });
          });
        } else if (t === "array" && mainType(items) === "object") {
          data[name] = rows(items, full, p);
        } else if (t === "array") {
          data[name] = values(full).map(function (x) { return lookup(items, x.value); });
        } else {
          var found = values(full);
          data[name] = typed(prop, found.length ? found[0].value : undefined);
        }
      });
      return data;
    }
    function rows(items, full, ptr) {
      var seen = {}, numbers = [], out = [];
      entries.forEach(function (e) {
        if (e[0].indexOf(full + "-") !== 0) return;
        var n = parseInt(e[0].slice(full.length + 1), 10);
        if (!isNaN(n) && !seen[n]) { seen[n] = true; numbers.push(n); }
      });
      numbers.sort(function (a, b) { return a - b; });
      numbers.forEach(function (n) {
        var before = files.length;
        var row = object(items.properties, full + "-" + n + "-", ptr + "/" + out.length);
        if (filled(row) || files.length > before) out.push(row);
        else files.length = before;
      });
      return out;
    }
    return { data: object(schema.properties, "", ""), files: files };
  }

  function listAt(data, pointer) {
    var tokens = pointer.replace(/^\//, "").split("/"), node = data;
    for (var i = 0; i < tokens.length - 1; i++) node = node[tokens[i]];
    var last = tokens[tokens.length - 1];
    if (!Array.isArray(node[last])) node[last] = [];
    return node[last];
  }

  // ---- sending ----

  // The session to send with: the CSRF token and the signed-in user, read from 待上传 fresh
  // from the network (a page cached while offline may be another session's). Null when the
  // session has ended: the items wait for the same user to sign in again.
  function session() {
    return fetch("/outbox", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok || r.redirected) return null;
      return r.text().then(function (html) {
        var token = /name="csrf_token" value="([^"]+)"/.exec(html);
        var user = /data-outbox-user="([^"]+)"/.exec(html);
        return token && user ? { token: token[1], user: user[1] } : null;
      });
    });
  }

  function problemsOf(response) {
    return response.json().then(function (body) {
      var errors = (body && body.errors) || [];
      return errors.map(function (e) { return { pointer: e.pointer || e.field || "", message: e.message || "填写内容不符合要求" }; });
    }, function () { return []; });
  }

  function query(item) {
    return "?version=" + encodeURIComponent(item.version) + (item.org ? "&org=" + encodeURIComponent(item.org) : "");
  }

  function Outcome(state, message, errors) { this.state = state; this.message = message; this.errors = errors || []; }

  // The server's answer → an outcome (thrown to stop the item), or the response when 2xx.
  function judge(response) {
    if (response.ok) return response;
    if (response.status === 422) {
      return problemsOf(response).then(function (errors) { throw new Outcome("rejected", "内容需要修改", errors); });
    }
    if (response.status === 401) throw new Outcome("login", "登录已过期，请重新登录后自动提交");
    if (response.status === 403 || response.status === 404 || response.status === 410) {
      throw new Outcome("rejected", response.status === 410 ? "表单已停用，无法提交" : "无权提交此表单或表单不存在");
    }
    if (response.status === 413) throw new Outcome("rejected", "照片或文件过大，请删减后重新提交");
    throw new Outcome("failed", "服务器暂时无法处理（" + response.status + "），稍后自动重试");
  }

  // A plugin's JSON write: the same Idempotency-Key on every send, so a resend replays it.
  function sendJson(item, sess) {
    item.state = "sending";
    return put(item).then(function () {
      if (!PLUGIN_API.test(item.endpoint || "")) throw new Outcome("rejected", "无法提交：目标地址无效");
      var body = JSON.parse(JSON.stringify(item.body || {}));
      return item.files.reduce(function (chain, pair) {
        return chain.then(function () {
          return base64(pair[1]).then(function (text) { (body[pair[0]] = body[pair[0]] || []).push(text); });
        });
      }, Promise.resolve()).then(function () {
        return fetch(item.endpoint, {
          method: "POST", credentials: "same-origin", body: JSON.stringify(body),
          headers: { "Content-Type": "application/json", "Idempotency-Key": item.idempotency_key, "X-CSRFToken": sess.token },
        });
      });
    }).then(judgeJson).then(function (r) { return r.json(); });
  }

  // A plugin route's answer: a conflict (already recorded …) is shown with its message; the
  // same key still being processed elsewhere is tried again later.
  function judgeJson(response) {
    if (response.status === 409) {
      return response.clone().json().catch(function () { return {}; }).then(function (body) {
        var busy = ((body && body.errors) || []).some(function (e) { return e.code === "idempotency_busy"; });
        if (busy) throw new Outcome("failed", "正在处理中，稍后自动重试");
        return problemsOf(response).then(function (errors) { throw new Outcome("rejected", "内容需要修改", errors); });
      });
    }
    if (response.status === 403 || response.status === 404) throw new Outcome("rejected", "无权提交或登记对象不存在");
    return judge(response);
  }

  function sendOne(item, sess) {
    if (item.kind === "json") return settle(item, sendJson(item, sess));
    var base = "/api/v1/forms/" + encodeURIComponent(item.key);
    var converted, def;
    item.state = "sending";
    var sent = put(item).then(function () {
      return fetch(base + "?version=" + encodeURIComponent(item.version), { credentials: "same-origin" });
    }).then(judge).then(function (r) { return r.json(); }).then(function (body) {
      def = body;
      converted = convert(def.schema, item.entries);
      // photos one by one, each id kept at once (a resend uploads nothing twice)
      return converted.files.reduce(function (chain, slot) {
        return chain.then(function () {
          if (item.uploads[slot.index]) return null;
          var file = item.entries[slot.index][1];
          var body = new FormData();
          body.append("pointer", slot.pointer);
          body.append("file", file, file.name);
          return fetch(base + "/uploads" + query(item), {
            method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": sess.token },
          }).then(judge).then(function (r) { return r.json(); }).then(function (saved) {
            item.uploads[slot.index] = saved.id;
            return put(item);
          });
        });
      }, Promise.resolve());
    }).then(function () {
      converted.files.forEach(function (slot) { listAt(converted.data, slot.pointer).push(item.uploads[slot.index]); });
      return fetch(base + "/submissions" + query(item), {
        method: "POST", credentials: "same-origin", body: JSON.stringify(converted.data),
        headers: { "Content-Type": "application/json", "Idempotency-Key": item.idempotency_key, "X-CSRFToken": sess.token },
      });
    }).then(judge).then(function (r) { return r.json(); });
    return settle(item, sent);
  }

  // The answer of a send → the item's state, stored.
  function settle(item, sent) {
    return sent.then(function (body) {
      item.state = "done";
      item.case_number = body.case_number || null;
      item.errors = []; item.message = "";
      return put(item);
    }, function (err) {
      if (err instanceof Outcome) {
        item.state = err.state; item.message = err.message; item.errors = err.errors;
      } else { // the network went away mid-way
        item.state = "failed"; item.message = "网络中断，稍后自动重试"; item.errors = [];
      }
      if (item.state === "failed") {
        item.attempts += 1;
        item.next_try = Date.now() + Math.min(MAX_BACKOFF, 15000 * Math.pow(2, item.attempts - 1));
      }
      return put(item);
    });
  }

  function due(item, force) {
    if (item.state === "queued" || item.state === "login") return true;
    if (item.state === "sending") return true; // a page closed mid-send: the key makes it safe
    return item.state === "failed" && (force || Date.now() >= item.next_try);
  }

  function withLock(fn) {
    var locks = root.navigator && root.navigator.locks;
    return locks ? locks.request(LOCK, fn) : fn();
  }

  function anyDue(force) {
    return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.some(function (i) { return due(i, force); });
    });
  }

  // Send every due item of the signed-in user, one at a time; resolves with the items. An
  // empty queue asks the server nothing (an open page must not keep an idle session alive).
  function drain(force) {
    return withLock(function () {
      return anyDue(force).then(function (some) { return some ? session() : null; }).then(function (sess) {
        if (!sess) return [];
        return list(sess.user).then(function (items) {
          return items.filter(function (i) { return due(i, force); }).reduce(function (chain, item) {
            return chain.then(function () { return sendOne(item, sess); });
          }, Promise.resolve()).then(function () { return list(sess.user); });
        });
      }, function () { return []; }); // offline: nothing to do now
    });
  }

  // The earliest time a failed item may be retried (ms since the epoch), or null.
  function nextRetry() {
    return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
      var times = items.filter(function (i) { return i.state === "failed"; }).map(function (i) { return i.next_try; });
      return times.length ? Math.min.apply(null, times) : null;
    });
  }

  // ---- for the pages that queue (offline-forms.js, offline-endpoint.js; never the worker) ----

  // A message above ``form``: kind "success" or "error", with a link to 待上传 when ``link``.
  function notice(form, kind, text, link) {
    var old = document.querySelector(".offline-notice");
    if (old) old.remove();
    var box = document.createElement("div");
    box.className = "alert alert-" + kind + " offline-notice";
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = "/outbox";
      a.textContent = " 查看待上传";
      box.appendChild(a);
    }
    form.parentNode.insertBefore(box, form);
    box.scrollIntoView({ block: "center" });
  }

  // Why an item could not be kept, in Chinese (a full phone is said as such, not swallowed).
  function storageProblem(err) {
    if (err && err.name === "QuotaExceededError") {
      return "手机存储空间不足，无法保存到待上传。请清理手机空间或删减照片后重试（填写的内容仍在本页）。";
    }
    return "无法保存到待上传：" + ((err && (err.message || err.name)) || "未知错误") + "（填写的内容仍在本页）";
  }

  root.FqOutbox = {
    put: put, get: get, remove: remove, list: list, newItem: newItem, newJsonItem: newJsonItem, jsonBody: jsonBody, uuid: uuid,
    convert: convert, listAt: listAt, drain: drain, nextRetry: nextRetry, SYNC_TAG: "fengqiao-outbox",
    notice: notice, storageProblem: storageProblem,
  };
})(self);
