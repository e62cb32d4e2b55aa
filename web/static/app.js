// Staff portal: the operator's live page follows server-sent events; everything else works without JS.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var state = document.getElementById("live-state");
  var source = new EventSource(live.getAttribute("data-source"));
  function show(event) {
    var holder = document.createElement("div");
    holder.innerHTML = event.data;
    var card = holder.firstElementChild;
    if (!card) { return; }
    var old = card.id ? document.getElementById(card.id) : null;
    if (old) { old.remove(); }
    live.insertBefore(card, live.firstChild);
  }
  source.addEventListener("call", show);
  source.addEventListener("waiting", show);
  source.onopen = function () { if (state) { state.setAttribute("data-stream", "open"); } };
})();
