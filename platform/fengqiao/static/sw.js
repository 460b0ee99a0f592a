// The service worker (served at /sw.js by fengqiao.web.offline, scope "/").
//
// - the app shell (CSS, JS, icons) and the pages a grid worker fills forms with are
//   answered from the network first and from the cache when there is none;
// - only these pages are kept: 工作台 (/), 办事表单 (/forms), each form (/forms/{key}) and
//   待上传 (/outbox); of the API only the form list and the form definitions (no case, person
//   or other data of anybody ever goes into a cache);
// - the caches of pages and definitions are the signed-in user's: a signed-out page
//   (the login page after 退出) deletes them (static/offline.js);
// - a plugin page that a signed-in page marks for offline use (static/offline.js: links with
//   data-offline-keep, a page with data-offline-keep-page) is kept too, only pages under /p/
//   and at most MAX_KEPT of them, with the plugins' static files;
// - Background Sync ("fengqiao-outbox") sends the 待上传 queue when the network is back.
/* global FqOutbox */
importScripts("/static/offline-queue.js");

var SHELL = "fq-shell-v1";
var PAGES = "fq-pages";
var API = "fq-api";
var SHELL_FILES = [
  "/theme/fengqiao.css", "/theme/nav.css", "/theme/theme.css", "/theme/nav.js",
  "/theme/favicon.svg", "/theme/bell.svg",
  "/static/forms.js", "/static/home.css", "/static/offline.js", "/static/offline-queue.js",
  "/static/offline-forms.js", "/static/offline-endpoint.js", "/static/form-rules.js", "/static/outbox.js", "/static/offline.css",
  "/static/address-picker.js",
  "/static/icons/icon-192.png", "/static/icons/icon-512.png",
];
var FORM_PAGE = /^\/forms\/[^/]+$/;
var FORM_API = /^\/api\/v1\/forms(\/[^/]+)?$/;
var PRECACHE_EVERY = 5 * 60 * 1000;
var MAX_FORMS = 40;
var PLUGIN_PAGE = /^\/p\/[a-z0-9_-]+\/[^?#]*$/;
var PLUGIN_STATIC = /^\/p\/[a-z0-9_-]+\/static\//;
var MAX_KEPT = 60;
var keptAt = {}; // plugin page → when it was last fetched for keeping (ms)
var lastPrecache = 0;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all(SHELL_FILES.map(function (url) {
      return cache.add(url).catch(function () { return null; }); // a theme without a file
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("fq-shell-") === 0 && n !== SHELL; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageKey(url) { return url.origin + url.pathname; }

function keptPage(url) {
  return url.pathname === "/" || url.pathname === "/forms" || url.pathname === "/outbox" || FORM_PAGE.test(url.pathname);
}

function usable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

// Network first; a good answer replaces the cached one, no network falls back to it.
function networkFirst(request, cacheName, key) {
  return fetch(request).then(function (response) {
    if (usable(response)) {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { return cache.put(key, copy); });
    }
    return response;
  }, function () {
    return caches.match(key, { cacheName: cacheName }).then(function (hit) {
      if (hit) return hit;
      throw new TypeError("offline");
    });
  });
}

function offlinePage() {
  return caches.match(self.location.origin + "/outbox", { cacheName: PAGES }).then(function (hit) {
    return hit || new Response(
      "<!doctype html><meta charset=utf-8><title>离线</title><p>当前没有网络，此页面没有离线副本。联网后请重试。</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

// A form posted while the phone thinks it is online, but the network fails on the way: the
// posted pairs go to 待上传 like an offline submit (static/offline-forms.js) instead of an
// error page. The signed-in user is the one whose 待上传 page is cached (cleared at sign-out).
function postOrQueue(request, url) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData().then(function (form) {
      if (form.get("_row") || form.get("_action") === "save_draft") return offlinePage();
      return queueFromWorker(url, form);
    }).catch(offlinePage);
  });
}

function queueFromWorker(url, form) {
  var origin = self.location.origin;
  var key = decodeURIComponent(url.pathname.split("/")[2]);
  return Promise.all([
    caches.match(origin + "/outbox", { cacheName: PAGES }).then(function (r) { return r ? r.text() : ""; }),
    caches.match(origin + "/api/v1/forms/" + encodeURIComponent(key), { cacheName: API })
      .then(function (r) { return r ? r.json() : null; }),
  ]).then(function (found) {
    var user = /data-outbox-user="([^"]+)"/.exec(found[0]);
    var version = parseInt(form.get("fq_version"), 10);
    if (!user || !version) return offlinePage();
    var pairs = [];
    form.forEach(function (value, name) { pairs.push([name, value]); });
    var item = FqOutbox.newItem(user[1], key, found[1] ? found[1].title : key, version, form.get("org") || null, pairs);
    return FqOutbox.put(item).then(function () {
      if (self.registration.sync) self.registration.sync.register(FqOutbox.SYNC_TAG).catch(function () { return null; });
      return Response.redirect(origin + "/outbox?queued=1", 303);
    });
  });
}

// The same for a plugin page's form marked for offline use (static/offline-endpoint.js): the
// kept copy of the page says where and how its JSON goes; the posted pairs become that body.
function unescapeHtml(text) {
  return text.replace(/&(#(\d+)|#x([0-9a-f]+)|quot|amp|lt|gt|apos);/gi, function (all, code, dec, hex) {
    if (dec) return String.fromCharCode(parseInt(dec, 10));
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" }[code.toLowerCase()];
  });
}

function pluginPostOrQueue(request, url) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return Promise.all([
      copy.formData(),
      caches.match(pageKey(url), { cacheName: PAGES }).then(function (r) { return r ? r.text() : ""; }),
    ]).then(function (found) {
      var tag = /<form\b[^>]*\bdata-offline-endpoint="[^"]*"[^>]*>/.exec(found[1]);
      if (!tag) return offlinePage();
      var attrs = {};
      tag[0].replace(/\s(data-offline-[a-z-]+)="([^"]*)"/g, function (all, name, value) { attrs[name] = unescapeHtml(value); });
      if (!attrs["data-offline-user"]) return offlinePage();
      var pairs = [];
      found[0].forEach(function (value, name) { pairs.push([name, value]); });
      var schema = JSON.parse(attrs["data-offline-schema"] || "{}"), labels = {};
      Object.keys(schema.properties || {}).forEach(function (n) { labels[n] = schema.properties[n].title || n; });
      var made = FqOutbox.jsonBody(schema, JSON.parse(attrs["data-offline-body"] || "{}"), pairs);
      var item = FqOutbox.newJsonItem(attrs["data-offline-user"], {
        endpoint: attrs["data-offline-endpoint"], page: url.pathname, title: attrs["data-offline-title"] || "待上传",
        body: made.body, files: made.files, labels: labels, preview: "",
      });
      return FqOutbox.put(item).then(function () {
        if (self.registration.sync) self.registration.sync.register(FqOutbox.SYNC_TAG).catch(function () { return null; });
        return Response.redirect(self.location.origin + "/outbox?queued=1", 303);
      });
    }).catch(offlinePage);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate" && FORM_PAGE.test(url.pathname)) {
    event.respondWith(postOrQueue(request, url));
    return;
  }
  if (request.method === "POST" && request.mode === "navigate" && PLUGIN_PAGE.test(url.pathname)) {
    event.respondWith(pluginPostOrQueue(request, url));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    if (keptPage(url)) {
      event.respondWith(networkFirst(request, PAGES, pageKey(url)).catch(offlinePage));
    } else if (PLUGIN_PAGE.test(url.pathname) && !PLUGIN_STATIC.test(url.pathname)) {
      event.respondWith(pluginPage(request, url));
    } else {
      event.respondWith(fetch(request).catch(offlinePage));
    }
    return;
  }
  if (FORM_API.test(url.pathname)) {
    event.respondWith(networkFirst(request, API, url.href));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/theme/") === 0 ||
             PLUGIN_STATIC.test(url.pathname)) {
    event.respondWith(networkFirst(request, SHELL, url.href));
  }
});

// The forms this user may fill, their pages and definitions, fetched while online.
function precache() {
  if (Date.now() - lastPrecache < PRECACHE_EVERY) return Promise.resolve();
  lastPrecache = Date.now();
  var origin = self.location.origin;
  function keep(cacheName, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!usable(response)) return null;
      return caches.open(cacheName).then(function (cache) { return cache.put(url, response.clone()).then(function () { return response; }); });
    });
  }
  return keep(API, origin + "/api/v1/forms").then(function (response) {
    if (!response) return null;
    return response.json().then(function (forms) {
      var jobs = [keep(PAGES, origin + "/"), keep(PAGES, origin + "/forms"), keep(PAGES, origin + "/outbox")];
      forms.slice(0, MAX_FORMS).forEach(function (f) {
        var key = encodeURIComponent(f.key);
        jobs.push(keep(PAGES, origin + "/forms/" + key));
        jobs.push(keep(API, origin + "/api/v1/forms/" + key));
        jobs.push(keep(API, origin + "/api/v1/forms/" + key + "?version=" + f.version));
      });
      return Promise.all(jobs);
    });
  }).catch(function () { lastPrecache = 0; });
}

// A plugin page: from the network; a copy is refreshed only when the page was marked for
// offline use before (keep), and answers when there is no network.
function pluginPage(request, url) {
  var key = pageKey(url);
  return fetch(request).then(function (response) {
    if (usable(response)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.match(key).then(function (hit) { return hit ? cache.put(key, copy) : null; });
      });
    }
    return response;
  }, function () {
    return caches.match(key, { cacheName: PAGES }).then(function (hit) { return hit || offlinePage(); });
  });
}

// The plugin pages a signed-in page marked for offline use (the visit form of each household
// listed on 今天): fetched now as this user, each at most every PRECACHE_EVERY.
function keep(urls) {
  var origin = self.location.origin, now = Date.now();
  var wanted = (Array.isArray(urls) ? urls : []).map(function (path) {
    try { return typeof path === "string" && path.charAt(0) === "/" ? new URL(path, origin) : null; } catch (e) { return null; }
  }).filter(function (url) {
    return url && url.origin === origin && PLUGIN_PAGE.test(url.pathname) && !PLUGIN_STATIC.test(url.pathname) &&
      !(keptAt[url.href] && now - keptAt[url.href] < PRECACHE_EVERY);
  }).slice(0, MAX_KEPT);
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(wanted.map(function (url) {
      keptAt[url.href] = now;
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        if (!usable(response)) return null;
        return Promise.all([cache.put(pageKey(url), response.clone()), response.text().then(keepAssets)]);
      }).catch(function () { delete keptAt[url.href]; return null; });
    }));
  });
}

// The scripts and styles a kept page loads (a plugin's own under /p/{name}/static/): into the
// shell cache, which holds nobody's data, unless already there.
function keepAssets(html) {
  var found = [], re = /(?:src|href)="(\/(?:static|theme|p\/[a-z0-9_-]+\/static)\/[^"?#]+\.(?:js|css)(?:\?[^"#]*)?)"/g, m;
  while ((m = re.exec(html)) && found.length < 30) if (found.indexOf(m[1]) < 0) found.push(m[1]);
  return caches.open(SHELL).then(function (cache) {
    return Promise.all(found.map(function (path) {
      var url = self.location.origin + path;
      return cache.match(url).then(function (hit) { return hit || cache.add(url).catch(function () { return null; }); });
    }));
  });
}

function clearUserCaches() {
  lastPrecache = 0;
  keptAt = {};
  return Promise.all([caches.delete(PAGES), caches.delete(API)]);
}

function tellPages(message) {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (c) { c.postMessage(message); });
  });
}

self.addEventListener("message", function (event) {
  var type = event.data && event.data.type;
  if (type === "precache") event.waitUntil(precache());
  else if (type === "clear") event.waitUntil(clearUserCaches());
  else if (type === "keep") event.waitUntil(keep(event.data.urls));
});

self.addEventListener("sync", function (event) {
  if (event.tag !== FqOutbox.SYNC_TAG) return;
  event.waitUntil(FqOutbox.drain(false).then(function () { return tellPages({ type: "outbox-changed" }); }));
});
