// Phone list: the first row's call form has the focus, so a call is recorded without the mouse;
// the city box only matters when "换了城市" is chosen. Mobile check-in: show the follow-up fields
// (city, date) only when their answer needs them; the server checks them anyway.
(function () {
  "use strict";

  function toggle(select, wanted, target) {
    if (!select || !target) { return; }
    var update = function () {
      var value = select.type === "radio" ? (document.querySelector("input[name='" + select.name + "']:checked") || {}).value : select.value;
      target.hidden = wanted.indexOf(value) < 0;
    };
    var inputs = select.type === "radio" ? document.querySelectorAll("input[name='" + select.name + "']") : [select];
    Array.prototype.forEach.call(inputs, function (el) { el.addEventListener("change", update); });
    update();
  }

  var first = document.querySelector(".call-form .call-outcome");
  if (first) { first.focus(); }
  Array.prototype.forEach.call(document.querySelectorAll(".call-form"), function (form) {
    toggle(form.querySelector(".call-whereabouts"), ["moved"], form.querySelector(".call-city"));
    toggle(form.querySelector(".call-outcome"), ["reached"], form.querySelector(".call-health"));
  });

  var h5 = document.querySelector("form.h5-form");
  if (h5) {
    toggle(h5.querySelector("input[name='whereabouts']"), ["moved"], document.getElementById("h5-city"));
    toggle(h5.querySelector("input[name='return_plan']"), ["date"], document.getElementById("h5-return-date"));
  }
}());
