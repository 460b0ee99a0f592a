// The service worker (served at /sw.js by fengqiao.web.offline, scope "/").
//
// - the app shell (CSS, JS, icons) and the pages a grid worker fills forms with are
//   answered from the network first and from the cache when there is none;
// - only these pages are kept: 工作台 (/), 办事表单 (/forms), each form (/forms/{key}) and
//   待上传 (/outbox); of the API only the form list and the form definitions (no case, person
//   or other data of anybody ever goes into a cache);
// - the caches of pages and definitions are the signed-in user's: a signed-out page
//   (the login page after 退出) deletes them (static/offline.js);
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
  "/static/offline-forms.js", "/static/form-rules.js", "/static/outbox.js", "/static/offline.css",
  "/static/icons/icon-192.png", "/static/icons/icon-512.png",
];
var FORM_PAGE = /^\/forms\/[^/]+$/;
var FORM_API = /^\/api\/v1\/forms(\/[^/]+)?$/;
var PRECACHE_EVERY = 5 * 60 * 1000;
var MAX_FORMS = 40;
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

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate" && FORM_PAGE.test(url.pathname)) {
    event.respondWith(postOrQueue(request, url));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    if (keptPage(url)) {
      event.respondWith(networkFirst(request, PAGES, pageKey(url)).catch(offlinePage));
    } else {
      event.respondWith(fetch(request).catch(offlinePage));
    }
    return;
  }
  if (FORM_API.test(url.pathname)) {
    event.respondWith(networkFirst(request, API, url.href));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/theme/") === 0) {
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

function clearUserCaches() {
  lastPrecache = 0;
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
});

self.addEventListener("sync", function (event) {
  if (event.tag !== FqOutbox.SYNC_TAG) return;
  event.waitUntil(FqOutbox.drain(false).then(function () { return tellPages({ type: "outbox-changed" }); }));
});
