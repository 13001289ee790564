// Forms that fit the data (issue 14). Two behaviours, both optional: every page works without
// this script (the server checks everything again).
//
// 1. Contact (and service) drop-downs follow the chosen customer. A <select data-filter-customer="x">
//    has options tagged data-customer="<customer id>"; "x" names the field in the same form whose
//    value is the customer id, or whose chosen option carries data-customer (a service). Options of
//    other customers are hidden and disabled; a choice that no longer fits is cleared.
// 2. Formset rows added and removed freely. <fieldset data-formset="prefix" data-formset-max="n">
//    holds the management form, a <tbody data-formset-rows> of <tr data-formset-row>, a
//    <template data-formset-empty> (Django's empty_form, "__prefix__" in names and ids), a button
//    data-formset-add and in every row a button data-formset-remove. Removing a row renumbers the
//    others so that the submitted rows are 0..TOTAL_FORMS-1.
//
// No inline script (CSP); no HTML is built from strings: rows come from the page's own <template>.
"use strict";

(function () {
  // --- 1. contacts of the chosen customer -------------------------------------------------------

  function customerOf(source) {
    if (!source) { return ""; }
    if (source.tagName === "SELECT") {
      var opt = source.options[source.selectedIndex];
      if (opt && opt.dataset.customer) { return opt.dataset.customer; }
      return source.value || "";
    }
    return source.value || "";
  }

  function narrow(select, source) {
    var customer = customerOf(source);
    var cleared = false;
    Array.prototype.forEach.call(select.options, function (opt) {
      if (!opt.dataset.customer) { return; }  // the empty choice stays
      var fits = !customer || opt.dataset.customer === customer;
      opt.hidden = !fits;
      opt.disabled = !fits;
      if (!fits && opt.selected) { opt.selected = false; cleared = true; }
    });
    if (cleared) {
      select.value = "";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-filter-customer]"), function (select) {
    var form = select.form;
    if (!form) { return; }
    var source = form.elements.namedItem(select.dataset.filterCustomer);
    if (!source || !source.addEventListener) { return; }
    source.addEventListener("change", function () { narrow(select, source); });
    narrow(select, source);
  });

  // --- 2. formset rows ------------------------------------------------------------------------------

  function setup(box) {
    var prefix = box.dataset.formset;
    var total = box.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var rows = box.querySelector("[data-formset-rows]");
    var empty = box.querySelector("template[data-formset-empty]");
    var add = box.querySelector("[data-formset-add]");
    if (!total || !rows || !empty || !add) { return; }
    var max = parseInt(box.dataset.formsetMax, 10) || 1000;
    var minInput = box.querySelector('input[name="' + prefix + '-MIN_NUM_FORMS"]');
    var min = Math.max(1, parseInt(minInput ? minInput.value : "1", 10) || 1);
    var pattern = new RegExp("^(id_)?" + prefix + "-(\\d+|__prefix__)-");

    function renumber(row, index) {
      Array.prototype.forEach.call(row.querySelectorAll("[name], [id], label[for]"), function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v && pattern.test(v)) {
            el.setAttribute(attr, v.replace(pattern, function (m, id) {
              return (id || "") + prefix + "-" + index + "-";
            }));
          }
        });
      });
    }

    function allRows() { return rows.querySelectorAll("[data-formset-row]"); }

    function refresh() {
      var list = allRows();
      Array.prototype.forEach.call(list, function (row, i) { renumber(row, i); });
      total.value = String(list.length);
      add.disabled = list.length >= max;
      Array.prototype.forEach.call(list, function (row) {
        var remove = row.querySelector("[data-formset-remove]");
        if (remove) { remove.disabled = list.length <= min; }
      });
    }

    function wire(row) {
      var remove = row.querySelector("[data-formset-remove]");
      if (!remove) { return; }
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if (allRows().length <= min) { return; }
        row.parentNode.removeChild(row);
        refresh();
      });
    }

    Array.prototype.forEach.call(allRows(), wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      if (allRows().length >= max) { return; }
      var fragment = empty.content.cloneNode(true);
      var row = fragment.querySelector("[data-formset-row]");
      if (!row) { return; }
      rows.appendChild(row);
      wire(row);
      refresh();
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    });
    refresh();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-formset]"), setup);
}());
