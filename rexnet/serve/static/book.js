// The book replay's scrubber: moving the time slider (or stepping by events) asks the server for
// the state at that point (book.json) and redraws the books, the tape and the accounts. Cells
// are filled with textContent only, so nothing from the ledger is ever parsed as HTML.
"use strict";
(function () {
  var box = document.getElementById("scrubber");
  if (!box) { return; }
  var run = box.dataset.run, head = parseInt(box.dataset.head, 10);
  var slider = document.getElementById("time"), tOut = document.getElementById("t");
  var seqOut = document.getElementById("seq"), status = document.getElementById("status");
  var current = parseInt(seqOut.textContent, 10), asked = 0, timer = null;

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }
  function link(tr, agent, unit) {
    var td = document.createElement("td"), a = document.createElement("a");
    a.href = "/runs/" + encodeURIComponent(run) + "/trail?agent=" + encodeURIComponent(agent) + "&unit=" + unit;
    a.textContent = agent;
    td.appendChild(a);
    tr.appendChild(td);
  }
  function books(view) {
    var holder = document.getElementById("books");
    holder.replaceChildren();
    if (!view.books.length) {
      var p = document.createElement("p"); p.className = "note"; p.textContent = "No open book at this point.";
      holder.appendChild(p); return;
    }
    view.books.forEach(function (b) {
      var table = document.createElement("table"); table.className = "grid book"; table.dataset.unit = b.unit;
      var cap = table.createCaption(); cap.textContent = "unit " + b.unit;
      var head = table.createTHead().insertRow();
      ["bid qty", "bid", "ask", "ask qty"].forEach(function (h) {
        var th = document.createElement("th"); th.className = "num"; th.textContent = h; head.appendChild(th);
      });
      var body = table.createTBody(), n = Math.max(b.bids.length, b.asks.length, 1);
      for (var i = 0; i < n; i++) {
        var tr = body.insertRow(), bid = b.bids[i], ask = b.asks[i];
        cell(tr, bid ? bid.qty : "", "num bid-qty"); cell(tr, bid ? bid.price : "", "num bid");
        cell(tr, ask ? ask.price : "", "num ask"); cell(tr, ask ? ask.qty : "", "num ask-qty");
      }
      holder.appendChild(table);
    });
  }
  function rows(id, items, fill) {
    var body = document.getElementById(id).tBodies[0];
    body.replaceChildren();
    items.forEach(function (item) { fill(body.insertRow(), item); });
  }
  function show(view) {
    current = view.seq;
    seqOut.textContent = view.seq; tOut.textContent = view.t; slider.value = view.t;
    books(view);
    rows("tape", view.tape, function (tr, t) {
      if (t.after) { tr.className = "after"; }
      [t.seq, t.t, t.unit, t.price, t.qty].forEach(function (v) { cell(tr, v, "num"); });
      link(tr, t.buyer, t.unit); link(tr, t.seller, t.unit);
    });
    rows("accounts", view.accounts, function (tr, a) {
      cell(tr, a.agent);
      [a.cash, a.penalty, a.bought_kw, a.sold_kw, a.open_position_kw, a.units_settled].forEach(function (v) { cell(tr, v, "num"); });
    });
    history.replaceState(null, "", "?seq=" + view.seq);
    box.dataset.seq = String(view.seq);
  }
  function ask(query) {
    var mine = ++asked;
    status.textContent = "loading…";
    fetch("/runs/" + encodeURIComponent(run) + "/book.json?" + query)
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (mine !== asked) { return; }  // a later request supersedes this one
        if (!res.ok) { status.textContent = res.body.error || "error"; return; }
        show(res.body);
        status.textContent = "";
      })
      .catch(function () { if (mine === asked) { status.textContent = "the explorer did not answer"; } });
  }
  function step(by) { ask("seq=" + Math.min(head, Math.max(-1, current + by))); }
  slider.addEventListener("input", function () {
    tOut.textContent = slider.value;
    clearTimeout(timer);
    timer = setTimeout(function () { ask("t=" + slider.value); }, 120);
  });
  document.getElementById("prev").addEventListener("click", function () { step(-1); });
  document.getElementById("next").addEventListener("click", function () { step(1); });
  document.getElementById("prev100").addEventListener("click", function () { step(-100); });
  document.getElementById("next100").addEventListener("click", function () { step(100); });
  box.dataset.seq = String(current);
})();
