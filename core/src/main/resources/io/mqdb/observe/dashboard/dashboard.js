// The mqdb node dashboard: reads the node's admin API every two seconds and draws it. No build step, no framework;
// every value from the API goes into the page as text (textContent), never as HTML.
"use strict";

const EVERY_MS = 2000;
const COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568"];
let token = sessionStorage.getItem("mqdb-token") || "";
let chart = null;
let chartKeys = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "onclick") e.onclick = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function api(path, options) {
  const headers = Object.assign({}, (options && options.headers) || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch(path, Object.assign({}, options || {}, {headers}));
  if (r.status === 401) {
    document.getElementById("token-form").hidden = false;
    throw new Error("this node's listener needs its token");
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

async function post(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
}

function fmt(n) {
  return n === undefined || n === null ? "?" : Number(n).toLocaleString("en-US");
}

function secs(s) {
  return s === undefined || s === null ? "?" : Number(s).toFixed(1);
}

function bytes(n) {
  if (n === undefined) return "";
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

function fill(tbodyParent, rows) {
  const tbody = document.querySelector(tbodyParent + " tbody");
  tbody.replaceChildren(...rows);
}

function showNode(n) {
  document.getElementById("node-name").textContent = n.node;
  document.title = "mqdb " + n.node;
  const b = n.broker.connected ? el("span", {class: "ok"}, "connected to " + n.broker.uri)
      : el("span", {class: "bad"}, "not connected to the broker");
  const stores = n.stores.map(s => s.name + " (" + s.type + ")" +
      (s.outboxDepth !== undefined ? ": outbox " + fmt(s.outboxDepth) + " / " + bytes(s.outboxBytes) : ""));
  document.getElementById("node-facts").replaceChildren(
      el("span", {}, "cluster " + n.cluster + " · " + n.version + " · "), b,
      el("span", {}, " · stores " + stores.join(", ") + " · RSS " + bytes(n.memory.residentBytes)));
}

function showTopology(c) {
  const nodes = c.nodes;
  const channels = c.channels.map(ch => ch.channel);
  const w = Math.max(640, 170 * Math.max(nodes.length, channels.length));
  const h = 260;
  const root = svg("svg", {viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": "topology"});
  const nodeX = {}, chX = {};
  nodes.forEach((n, i) => nodeX[n.node] = (i + 0.5) * w / nodes.length);
  channels.forEach((ch, i) => chX[ch] = (i + 0.5) * w / channels.length);
  for (const ch of c.channels) {
    for (const p of ch.publishers) {
      if (nodeX[p] !== undefined) {
        root.append(svg("path", {class: "edge pub", d: "M" + nodeX[p] + ",80 C" + nodeX[p] + ",130 " + chX[ch.channel]
            + ",130 " + chX[ch.channel] + ",170"}));
      }
    }
    for (const s of ch.subscribers) {
      if (nodeX[s.node] !== undefined) {
        root.append(svg("path", {class: "edge sub", "stroke-dasharray": "4 3", d: "M" + (chX[ch.channel] + 6) + ",170 C"
            + (chX[ch.channel] + 6) + ",130 " + (nodeX[s.node] + 6) + ",130 " + (nodeX[s.node] + 6) + ",80"}));
      }
    }
  }
  for (const n of nodes) {
    const g = svg("g", {class: "node " + n.state, "data-node": n.node});
    const x = nodeX[n.node];
    g.append(svg("rect", {x: x - 75, y: 10, width: 150, height: 70, rx: 6}));
    g.append(svg("text", {x: x, y: 30, "text-anchor": "middle", "font-weight": "600"}, n.node));
    g.append(svg("text", {x: x, y: 48, "text-anchor": "middle"}, n.state));
    const stores = (n.stores || []).map(s => s.name + ":" + s.type).join(" ");
    g.append(svg("text", {x: x, y: 66, "text-anchor": "middle"}, stores));
    root.append(g);
  }
  for (const ch of channels) {
    const g = svg("g", {class: "channel", "data-channel": ch});
    g.append(svg("rect", {x: chX[ch] - 70, y: 170, width: 140, height: 30, rx: 15}));
    g.append(svg("text", {x: chX[ch], y: 190, "text-anchor": "middle"}, ch));
    root.append(g);
  }
  root.append(svg("text", {x: 10, y: h - 30, class: "legend"}, "solid: publishes · dashed: subscribes"));
  document.getElementById("topology").replaceChildren(root);
  fill("#cluster-channels", c.channels.flatMap(ch => (ch.subscribers.length ? ch.subscribers : [null]).map(s =>
      el("tr", {}, el("td", {}, ch.channel), el("td", {}, ch.publishers.join(", ") || "-"),
          el("td", {}, s ? s.node + (s.paused ? " (paused)" : "") : "-"),
          el("td", {class: "num"}, s ? fmt(s.eventsBehind) : "-"),
          el("td", {class: "num"}, s ? secs(s.secondsBehind) : "-"),
          el("td", {class: "num"}, ch.outbox === undefined ? "?" : fmt(ch.outbox)),
          el("td", {class: "num"}, s && s.deadLetters !== undefined ? fmt(s.deadLetters) : "?")))));
  const problem = document.getElementById("problem");
  problem.hidden = c.problems.length === 0;
  problem.textContent = c.problems.join(" · ");
}

function showHistory(h) {
  const keys = h.series.map(s => s.channel + " " + s.node).join("|");
  const data = [h.times].concat(h.series.map(s => s.events));
  const box = document.getElementById("lag-chart");
  if (!window.uPlot) return;
  if (chart === null || keys !== chartKeys) {
    if (chart) chart.destroy();
    chartKeys = keys;
    const series = [{}].concat(h.series.map((s, i) => ({
      label: s.channel + " → " + s.node, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false})));
    chart = new uPlot({width: Math.max(480, box.clientWidth - 10), height: 240, series,
      scales: {y: {range: (u, min, max) => [0, Math.max(10, max * 1.1)]}},
      axes: [{}, {label: "events behind", size: 70}]}, data, box);
  } else {
    chart.setData(data);
  }
  box.dataset.points = String(h.times.length);
  // the last value of each series, for people reading the page's source and for its browser test
  box.dataset.last = JSON.stringify(Object.fromEntries(h.series.map(s => [s.channel + " " + s.node,
      s.events.length ? s.events[s.events.length - 1] : null])));
}

function action(channel, what) {
  return async () => {
    try {
      await post("api/channels/" + encodeURIComponent(channel) + "/" + what);
      refresh();
    } catch (e) {
      alert(what + " " + channel + ": " + e.message);
    }
  };
}

function showChannels(list) {
  fill("#channels", list.map(c => {
    const role = [c.publish ? "publish" : "", c.subscribe ? "subscribe" : ""].filter(Boolean).join(" + ");
    const state = c.subscribe ? (c.paused ? el("span", {class: "paused"}, "paused") : el("span", {class: "ok"},
        "applying")) : "";
    const buttons = el("td", {});
    if (c.subscribe) {
      buttons.append(c.paused ? el("button", {onclick: action(c.channel, "resume")}, "resume")
          : el("button", {onclick: action(c.channel, "pause")}, "pause"));
      buttons.append(el("button", {onclick: action(c.channel, "resync")}, "re-sync"));
    }
    return el("tr", {"data-channel": c.channel}, el("td", {}, c.channel), el("td", {}, c.store), el("td", {}, role),
        el("td", {}, state), el("td", {class: "num"}, c.lag ? fmt(c.lag.events) : ""),
        el("td", {class: "num"}, c.lag ? secs(c.lag.seconds) : ""),
        el("td", {class: "num"}, c.subscribe ? fmt(c.appliedEvents) : ""),
        el("td", {class: "num"}, c.publish ? fmt(c.publishedEvents) : ""),
        el("td", {class: "num"}, c.publish ? fmt(c.outboxDepth) : ""),
        el("td", {class: "num"}, c.subscribe ? fmt(c.deadLetters) : ""), buttons);
  }));
  const loads = [];
  for (const c of list) {
    for (const l of c.loads || []) {
      const pct = l.total > 0 ? Math.min(100, 100 * l.applied / l.total) : 100;
      const bar = el("div", {class: "bar"}, el("div", {}));
      bar.firstChild.style.width = pct.toFixed(1) + "%";
      const done = l.applied >= l.total;
      const rate = !done && l.rowsPerSecond !== undefined ? ", " + fmt(l.rowsPerSecond) + " rows/s" : "";
      const left = l.secondsLeft !== undefined ? ", about " + l.secondsLeft + " s left" : "";
      loads.push(el("div", {class: "load", "data-channel": c.channel},
          el("div", {}, c.channel + " from " + l.origin + ": " + fmt(l.applied) + " of " + fmt(l.total) + " rows applied ("
              + pct.toFixed(0) + "%" + rate + left + ")"), bar));
    }
    if (c.publishedLoad) {
      const p = c.publishedLoad;
      const pct = p.total > 0 ? Math.min(100, 100 * p.rows / p.total) : 100;
      const bar = el("div", {class: "bar"}, el("div", {}));
      bar.firstChild.style.width = pct.toFixed(1) + "%";
      loads.push(el("div", {class: "load"}, el("div", {}, c.channel + ": " + (p.done ? "published its load of "
          : "publishing its load: ") + fmt(p.rows) + " of " + fmt(p.total) + " rows"), bar));
    }
  }
  if (loads.length) document.getElementById("loads").replaceChildren(...loads);
}

function showDeadLetters(d) {
  document.getElementById("dead-count").textContent = d.total === 0 ? "no dead letters"
      : d.total + " dead letter(s)" + (d.total > d.letters.length ? ", the last " + d.letters.length + " shown" : "");
  fill("#dead-letters", d.letters.map(l => el("tr", {}, el("td", {}, l.id), el("td", {}, l.time),
      el("td", {}, l.channel), el("td", {}, l.reason), el("td", {class: "num"}, bytes(l.bytes)),
      el("td", {}, l.bytes === undefined ? "" : el("button", {onclick: async () => {
        try {
          await post("api/dead-letters/replay", {ids: [l.id]});
          refresh();
        } catch (e) {
          alert("replay " + l.id + ": " + e.message);
        }
      }}, "replay")))));
}

async function refresh() {
  try {
    const [node, channels, cluster, history, dead] = await Promise.all([api("api/node"), api("api/channels"),
      api("api/cluster"), api("api/history"), api("api/dead-letters?limit=50")]);
    showNode(node);
    showTopology(cluster);
    showChannels(channels);
    showHistory(history);
    showDeadLetters(dead);
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "not updated: " + e.message;
  }
}

document.getElementById("token-form").addEventListener("submit", ev => {
  ev.preventDefault();
  token = document.getElementById("token").value;
  sessionStorage.setItem("mqdb-token", token);
  document.getElementById("token-form").hidden = true;
  refresh();
});

refresh();
setInterval(refresh, EVERY_MS);
