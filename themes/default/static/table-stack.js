/* Data tables on a phone: each row becomes a block of labelled lines (the column's header
 * before each value) rather than a table scrolled sideways, where the columns on the right
 * are out of sight. Without JavaScript a table stays in its .table-wrap scroller. Tables with
 * a phone layout of their own (the queue's cards, the designers' tables) say data-no-stack
 * or are skipped by class; the CSS (fengqiao.css, .table-stack) applies only on narrow screens. */
(function () {
  "use strict";
  var OWN_LAYOUT = ["queue-table", "wfd-table", "table-stack"];

  function labels(table) {
    var head = table.tHead;
    if (!head || head.rows.length !== 1) return null;  // a two-row header: leave it as it is
    var out = [];
    Array.prototype.forEach.call(head.rows[0].cells, function (cell) {
      for (var i = 0; i < cell.colSpan; i++) out.push(cell.textContent.trim());
    });
    return out;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".table-wrap > table").forEach(function (table) {
      if (table.hasAttribute("data-no-stack")) return;
      if (OWN_LAYOUT.some(function (name) { return table.classList.contains(name); })) return;
      var names = labels(table);
      if (!names) return;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (cell.colSpan === 1 && names[column] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", names[column]);
            }
            column += cell.colSpan;
          });
        });
      });
      table.classList.add("table-stack");
    });
  });
})();
