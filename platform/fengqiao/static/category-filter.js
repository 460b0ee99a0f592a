// The 类别 select follows the 事项类型 select beside it (queue, metrics, 台账): only the chosen
// type's categories are offered, all of them when no type is chosen. Without JavaScript every
// type's categories are listed and the server refuses a category of another type (422).
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("select[data-category-for]"), function (select) {
    var typeSelect = document.getElementById(select.getAttribute("data-category-for"));
    if (!typeSelect) return;
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup[data-type]"));

    function follow() {
      var type = typeSelect.value;
      var chosen = select.value;
      groups.forEach(function (group) { // re-added in their first order
        if (group.parentNode) group.parentNode.removeChild(group);
        if (!type || group.getAttribute("data-type") === type) select.appendChild(group);
      });
      // keep the chosen category when the new type offers it, else 全部类别
      var still = Array.prototype.some.call(select.options, function (o) { return o.value === chosen; });
      select.value = still ? chosen : "";
    }

    typeSelect.addEventListener("change", follow);
    follow();
  });
})();
