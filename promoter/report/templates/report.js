(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var input = document.getElementById("app-filter");
  var count = document.getElementById("filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-filterable] tbody tr[data-app]"));
  filter.hidden = false;
  input.addEventListener("input", function () {
    var needle = input.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = !needle || row.getAttribute("data-app").toLowerCase().indexOf(needle) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = needle ? shown + " of " + rows.length + " rows match" : "";
  });

  function value(row, index) {
    var cell = row.children[index];
    if (!cell) { return ""; }
    return (cell.getAttribute("data-value") || cell.textContent).trim().toLowerCase();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("thead th[data-sort]");
    Array.prototype.forEach.call(heads, function (th) {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var sorted = Array.prototype.slice.call(body.rows).sort(function (a, b) {
          var x = value(a, index), y = value(b, index);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        sorted.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
}());
