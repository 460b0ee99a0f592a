// On every page (base.html). Signed in (data-user set): register the service worker, let it
// keep this user's forms for offline use, and send the 待上传 queue when the network is there
// (on page open and on the "online" event; Background Sync where the browser has it).
// Signed out (the login page after 退出, or a session that ended): delete the cached pages
// and form definitions, so the next person on this phone sees nothing of the last one's.
/* global FqOutbox */
(function () {
  "use strict";
  var script = document.currentScript;
  var user = script && script.getAttribute("data-user");
  if (!("caches" in window) || !("serviceWorker" in navigator)) return;

  if (!user) {
    caches.delete("fq-pages");
    caches.delete("fq-api");
    if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "clear" });
    return;
  }

  function changed() { document.dispatchEvent(new CustomEvent("fq-outbox-changed")); }

  var draining = null, retry = null;
  function drain(force) {
    if (!window.FqOutbox || !navigator.onLine) return Promise.resolve([]);
    if (!draining) {
      draining = FqOutbox.drain(force).then(function (items) { draining = null; changed(); later(); return items; },
        function (err) { draining = null; changed(); throw err; });
    }
    return draining;
  }

  // A failed item (5xx, network) is tried again at its backoff time while the page is open.
  function later() {
    FqOutbox.nextRetry().then(function (when) {
      if (retry) clearTimeout(retry);
      retry = when === null ? null : setTimeout(function () { drain(false); }, Math.max(1000, when - Date.now() + 50));
    }).catch(function () { return null; });
  }

  function requestSync() {
    return navigator.serviceWorker.ready.then(function (reg) {
      return reg.sync ? reg.sync.register(FqOutbox.SYNC_TAG) : null;
    }).catch(function () { return null; });
  }

  window.FqOffline = { drain: drain, requestSync: requestSync, user: user };

  // The forms are fetched for offline use where they are wanted: on the form pages, 待上传,
  // and when the app is opened from the home screen (not on every staff page of a desk).
  // A plugin page marks itself (data-offline-keep-page) and the pages it links to
  // (a[data-offline-keep]) for offline use: the worker keeps those under /p/ (static/sw.js).
  var keepPage = document.querySelector("[data-offline-keep-page]");
  var wanted = /^\/(forms|outbox)(\/|$)/.test(location.pathname) || !!keepPage ||
    (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  function keptUrls() {
    var urls = keepPage ? [location.pathname + location.search] : [];
    document.querySelectorAll("a[data-offline-keep]").forEach(function (a) {
      var path = a.pathname + a.search;
      if (a.origin === location.origin && urls.indexOf(path) < 0) urls.push(path);
    });
    return urls;
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (reg) {
    if (!navigator.onLine || !reg.active) return;
    if (wanted) reg.active.postMessage({ type: "precache" });
    var urls = keptUrls();
    if (urls.length) reg.active.postMessage({ type: "keep", urls: urls });
  }).catch(function () { return null; });

  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && event.data.type === "outbox-changed") changed();
  });
  window.addEventListener("online", function () { drain(true); });
  if (navigator.onLine) drain(false);
})();
