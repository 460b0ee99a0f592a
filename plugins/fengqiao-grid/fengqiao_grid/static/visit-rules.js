// The checks of a visit beyond its JSON Schema (fengqiao_grid.visits.record_visit), for the
// visit page filled without a network (the core's static/offline-endpoint.js runs the schema
// with static/form-rules.js, then these): the same pointers and Chinese messages as the
// server, kept in step by tests/test_grid_offline_visit_rules.py. The server stays final
// (whether a unit is at the address, whether a photo decodes).
(function (root) {
  "use strict";
  var PHOTO_PROBLEM = "照片应为 1MB 以内的 JPG、PNG、GIF 或 WebP 图片";
  var MAX_PHOTO = 1024 * 1024;
  var MAX_PHOTOS = 3;
  var TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

  function today() { return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); } // Shanghai

  // body: the JSON the API gets (without photos); files: {photos: [File]} → [{pointer, message}]
  function visitRules(body, files) {
    var out = [];
    if (typeof body.date === "string" && /^\d{4}-\d\d-\d\d$/.test(body.date) && body.date > today()) {
      out.push({ pointer: "/date", message: "走访日期不能晚于今天" });
    }
    var findings = typeof body.findings === "string" ? body.findings.trim() : "";
    if (body.spawn_case === true && !findings) {
      out.push({ pointer: "/findings", message: "上报网格事件时请填写走访情况（发现的问题）" });
    }
    var photos = (files && files.photos) || [];
    photos.slice(0, MAX_PHOTOS + 1).forEach(function (f, i) {
      if (!f.size || f.size > MAX_PHOTO || TYPES.indexOf(f.type) < 0) out.push({ pointer: "/photos/" + i, message: PHOTO_PROBLEM });
    });
    if (photos.length > MAX_PHOTOS) out.push({ pointer: "/photos", message: "照片最多 " + MAX_PHOTOS + " 张" });
    return out;
  }

  root.FqOfflineRules = root.FqOfflineRules || {};
  root.FqOfflineRules["grid-visit"] = visitRules;
  if (typeof module !== "undefined" && module.exports) module.exports = visitRules;
})(typeof self !== "undefined" ? self : this);
