// 待上传 (templates/outbox.html): the signed-in user's queued submissions on this phone, with
// their state; 立即上传 sends them now; a refused one shows its field errors and opens in its
// form to be fixed; a sent one shows its case number once and leaves the queue.
/* global FqOutbox */
(function () {
  "use strict";
  var listEl = document.querySelector("[data-outbox-list]");
  if (!listEl) return;
  var user = listEl.getAttribute("data-outbox-user");
  var empty = document.querySelector("[data-outbox-empty]");
  var alertBox = document.querySelector("[data-outbox-alert]");
  var network = document.querySelector("[data-outbox-network]");
  var sendButton = document.querySelector("[data-outbox-send]");
  var shownDone = []; // sent items shown once on this page, already out of the queue
  var STATES = { queued: "待上传", sending: "上传中", failed: "失败", rejected: "失败", login: "失败", done: "已提交" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function problem(text) {
    alertBox.textContent = "";
    if (text) {
      var box = el("div", "alert alert-error", text);
      box.setAttribute("role", "alert");
      alertBox.appendChild(box);
    }
  }

  var definitions = {};
  function definition(item) {
    if (item.kind === "json") return Promise.resolve(null); // a plugin page's write: its own labels
    var url = "/api/v1/forms/" + encodeURIComponent(item.key) + "?version=" + item.version;
    if (!definitions[url]) {
      definitions[url] = fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    return definitions[url];
  }

  // "/location/address" → "发生地点 · 详细地址" by the schema's titles.
  function label(schema, pointer) {
    if (!pointer) return "";
    var node = schema, names = [];
    pointer.replace(/^\//, "").split("/").forEach(function (token) {
      if (!node) return;
      if (/^\d+$/.test(token) && node.items) { names.push("第 " + (parseInt(token, 10) + 1) + " 项"); node = node.items; return; }
      node = node.properties && node.properties[token];
      names.push(node && node.title ? node.title : token);
    });
    return names.join(" · ");
  }

  // A line to tell queued items of one form apart: the first plain text field (事件标题 …)
  // that is not personal data (ui.personal, or a 身份证号/手机号 format), cut short.
  function preview(item, def) {
    if (item.kind === "json") return item.preview || "";
    if (!def || !def.schema || !def.schema.properties) return "";
    var personal = (def.ui && def.ui.personal) || {};
    var props = def.schema.properties;
    var order = ((def.ui && def.ui.order) || []).concat(Object.keys(props));
    for (var i = 0; i < order.length; i++) {
      var name = order[i], prop = props[name];
      if (!prop || prop.type !== "string" || prop.format || prop.enum || prop.oneOf || name in personal) continue;
      var entry = item.entries.filter(function (e) { return e[0] === name && typeof e[1] === "string" && e[1].trim(); })[0];
      if (entry) { var text = Array.from(entry[1].trim()); return text.slice(0, 30).join("") + (text.length > 30 ? "…" : ""); }
    }
    return "";
  }

  // "/photos/0" → "照片 · 第 1 项" by the labels the page gave the item.
  function jsonLabel(item, pointer) {
    var tokens = (pointer || "").replace(/^\//, "").split("/");
    if (!tokens[0]) return "";
    var name = (item.labels || {})[tokens[0]] || tokens[0];
    return tokens.length > 1 && /^\d+$/.test(tokens[1]) ? name + " · 第 " + (parseInt(tokens[1], 10) + 1) + " 项" : name;
  }

  function stateText(item) {
    if (item.state === "failed" || item.state === "rejected" || item.state === "login") {
      return "失败：" + (item.message || "原因不明");
    }
    return STATES[item.state] || item.state;
  }

  function render(item, def) {
    var li = el("li", "card outbox-item");
    li.setAttribute("data-outbox-item", item.id);
    li.setAttribute("data-state", item.state);
    var head = el("div", "outbox-head");
    head.appendChild(el("span", "outbox-title", item.title));
    var state = el("span", "outbox-state state-" + item.state, stateText(item));
    state.setAttribute("data-outbox-state", item.state);
    head.appendChild(state);
    li.appendChild(head);
    var line = preview(item, def);
    if (line) li.appendChild(el("span", "outbox-preview", line));
    var files = item.kind === "json" ? (item.files || []).length
      : item.entries.filter(function (e) { return e[1] && typeof e[1] === "object" && e[1].name; }).length;
    var when = el("time", "muted small", "保存于 " + new Date(item.created).toLocaleString("zh-CN", { hour12: false }) +
      (files ? "，含 " + files + " 个附件" : ""));
    when.setAttribute("datetime", item.created);
    li.appendChild(when);
    if (item.state === "done") {
      var p = el("p", "", "已提交，事项编号：");
      if (item.case_number) {
        var a = el("a", "", item.case_number);
        a.href = "/cases/" + encodeURIComponent(item.case_number);
        a.setAttribute("data-case-number", item.case_number);
        p.appendChild(a);
      } else {
        p.textContent = "已提交登记";
      }
      li.appendChild(p);
      return li;
    }
    if (item.errors && item.errors.length) {
      var ul = el("ul", "outbox-errors");
      item.errors.forEach(function (e) {
        var name = item.kind === "json" ? jsonLabel(item, e.pointer) : def ? label(def.schema, e.pointer) : e.pointer;
        var row = el("li", "", (name ? name + "：" : "") + e.message);
        row.setAttribute("data-pointer", e.pointer);
        ul.appendChild(row);
      });
      li.appendChild(ul);
    }
    var buttons = el("div", "outbox-buttons");
    if (item.state === "rejected") {
      var fix = el("a", "btn btn-small", "打开修改");
      var page = item.kind === "json" && /^\/p\/[^/]/.test(item.page || "") ? item.page : "/forms/" + encodeURIComponent(item.key);
      fix.href = page +
        "?outbox=" + encodeURIComponent(item.id);
      buttons.appendChild(fix);
    }
    var drop = el("button", "btn btn-small btn-secondary", "删除");
    drop.type = "button";
    drop.setAttribute("aria-label", "删除待上传：" + item.title);
    drop.addEventListener("click", function () {
      if (!window.confirm("删除后这份表单不会再提交，确定删除吗？")) return;
      FqOutbox.remove(item.id).then(refresh, function (err) { problem("删除失败：" + err.message); });
    });
    buttons.appendChild(drop);
    li.appendChild(buttons);
    return li;
  }

  function refresh() {
    network.textContent = navigator.onLine ? "已联网" : "当前离线，联网后自动上传";
    return FqOutbox.list(user).then(function (items) {
      var done = items.filter(function (i) { return i.state === "done"; });
      // a case number is shown once: it leaves the queue as soon as it is on screen
      done.forEach(function (i) {
        if (!shownDone.some(function (d) { return d.id === i.id; })) shownDone.push(i);
      });
      return Promise.all(done.map(function (i) { return FqOutbox.remove(i.id); })).then(function () {
        var waiting = items.filter(function (i) { return i.state !== "done"; });
        return Promise.all(waiting.map(definition)).then(function (defs) {
          listEl.textContent = "";
          waiting.forEach(function (item, n) { listEl.appendChild(render(item, defs[n])); });
          shownDone.forEach(function (item) { listEl.appendChild(render(item, null)); });
          empty.hidden = waiting.length + shownDone.length > 0;
        });
      });
    }).catch(function (err) {
      problem(err && err.name === "QuotaExceededError" ? "手机存储空间不足，待上传无法更新，请清理手机空间。"
        : "无法读取待上传：" + ((err && err.message) || "未知错误"));
    });
  }

  sendButton.addEventListener("click", function () {
    if (!navigator.onLine) { problem("当前没有网络，联网后会自动上传。"); return; }
    problem("");
    sendButton.disabled = true;
    var run = window.FqOffline ? window.FqOffline.drain(true) : FqOutbox.drain(true);
    run.then(refresh, function (err) { problem("上传失败：" + ((err && err.message) || "未知错误")); })
      .then(function () { sendButton.disabled = false; });
  });
  if (new URLSearchParams(window.location.search).get("queued")) { // from the worker: the post failed
    var saved = el("div", "alert alert-success offline-notice", "网络中断，已保存到待上传，联网后自动提交。");
    saved.setAttribute("role", "status");
    alertBox.parentNode.insertBefore(saved, alertBox);
  }
  document.addEventListener("fq-outbox-changed", refresh);
  window.addEventListener("online", refresh);
  window.addEventListener("offline", refresh);
  refresh();
})();
