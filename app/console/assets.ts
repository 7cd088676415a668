/**
 * The console's page, style and script: a tiny static page served by us (no CDN, no build step), whose script
 * reads the public API (`GET /orders`, `GET /orders/:id/timeline`) and, with the ops token, `/ops`. The token
 * is typed into the page or handed over in the URL fragment (`/console#token=…`, never sent to a server) and
 * kept in the tab's sessionStorage.
 * @module
 */

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orderflow console</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<header>
  <h1>orderflow console</h1>
  <form id="token-form"><label>Ops token <input id="token" type="password" autocomplete="off" size="34"></label>
  <button type="submit">Use</button> <span id="token-state" class="muted"></span></form>
</header>
<main>
  <section id="orders-panel">
    <h2>Recent orders</h2>
    <label>Status <select id="status-filter">
      <option value="">all</option><option>PENDING</option><option>CONFIRMED</option><option>SHIPPED</option><option>CANCELLED</option>
    </select></label>
    <button id="refresh" type="button">Refresh</button>
    <table id="orders"><thead><tr><th>Order</th><th>Amount</th><th>Status</th><th>Payment</th><th>Created</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="timeline-panel">
    <h2>Timeline <span id="timeline-order" class="muted">(pick an order)</span></h2>
    <div id="timeline-status"></div>
    <div id="lanes"></div>
    <table id="timeline"><thead><tr><th>At</th><th>Lane</th><th>What</th><th>Detail</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="dlq-panel">
    <h2>Dead letters</h2>
    <div id="dlq"><p class="muted">Needs the ops token.</p></div>
    <pre id="dlq-detail" hidden></pre>
  </section>
  <section id="health-panel">
    <h2>Consumer lag and outbox backlog</h2>
    <div id="lag"><p class="muted">Needs the ops token.</p></div>
    <div id="outbox"></div>
  </section>
</main>
<script src="/console/console.js" type="module"></script>
</body>
</html>
`;

export const CONSOLE_CSS = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
header { display: flex; align-items: center; justify-content: space-between; padding: 8px 16px; background: #1d2330; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
main { display: grid; grid-template-columns: minmax(360px, 1fr) 2fr; gap: 12px; padding: 12px; }
section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px #0002; overflow: auto; }
#dlq-panel, #health-panel { grid-column: 1 / -1; }
#health-panel { display: grid; grid-template-columns: 2fr 1fr; gap: 12px; }
#health-panel h2 { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; margin-top: 6px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e6ea; white-space: nowrap; }
td.wrap { white-space: normal; }
tbody tr.pick { cursor: pointer; }
tbody tr.pick:hover, tr.selected { background: #eef3ff; }
.muted { color: #7a8190; }
.badge { padding: 1px 6px; border-radius: 9px; font-size: 12px; background: #e4e6ea; }
.SHIPPED, .PAID, .handled { background: #d5f5df; } .CANCELLED, .FAILED, .dead-lettered, .dead-letter { background: #fbd9d9; }
.PENDING, .NOT_PAID, .retried { background: #fff0c2; } .CONFIRMED, .redrive, .duplicate { background: #dbe7ff; }
button { cursor: pointer; }
svg text { font-size: 11px; fill: #1d2330; }
pre { background: #f5f6f8; padding: 6px; max-height: 240px; overflow: auto; white-space: pre-wrap; }
h3 { font-size: 14px; margin: 10px 0 2px; }
`;

export const CONSOLE_JS = `
const $ = (s) => document.querySelector(s);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const badge = (v) => '<span class="badge ' + esc(v) + '">' + esc(v) + '</span>';
const time = (iso) => (iso ? new Date(iso).toISOString().slice(11, 23) : '');
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) { sessionStorage.setItem('opsToken', fromHash); history.replaceState(null, '', location.pathname); }
let token = sessionStorage.getItem('opsToken') || '';
let selected = null;

async function api(path, init = {}) {
  const headers = { 'content-type': 'application/json', ...(path.startsWith('/ops') && token ? { authorization: 'Bearer ' + token } : {}) };
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}

async function loadOrders() {
  const status = $('#status-filter').value;
  const { orders } = await api('/orders' + (status ? '?status=' + status : ''));
  $('#orders tbody').innerHTML = orders.map((o) =>
    '<tr class="pick' + (o.orderId === selected ? ' selected' : '') + '" data-order="' + esc(o.orderId) + '"><td>' + esc(o.orderId) + '</td><td>' + esc(o.totalAmount) + ' ' + esc(o.currency) +
    '</td><td>' + badge(o.status) + '</td><td>' + badge(o.paymentStatus) + '</td><td>' + time(o.createdAt) + '</td></tr>').join('');
  for (const row of document.querySelectorAll('#orders tbody tr')) row.onclick = () => { selected = row.dataset.order; loadOrders(); loadTimeline(); };
}

function laneOf(e) { return e.kind === 'event' ? (e.producer || 'client') : e.functionId; }
function what(e) {
  if (e.kind === 'event') return 'event ' + esc(e.eventType);
  if (e.kind === 'attempt') return 'attempt ' + e.attempt + ' ' + badge(e.outcome);
  if (e.kind === 'dead-letter') return badge('dead-letter') + ' ' + esc(e.eventType);
  return badge('redrive') + ' #' + e.count + ' ' + esc(e.eventType);
}
function detail(e) {
  if (e.kind === 'event') return esc(e.topic) + '[' + e.partition + ']@' + e.offset + (e.publishedAt ? ', published ' + time(e.publishedAt) : '');
  if (e.kind === 'attempt') return esc(e.eventType) + ' from ' + esc(e.topic) + ', ' + e.durationMs + ' ms' + (e.error ? ', ' + esc(e.error) : '');
  if (e.kind === 'dead-letter') return esc(e.errorKind) + ': ' + esc(e.reason) + ' (entry ' + esc(e.entry) + ')';
  return 'to ' + esc(e.topic);
}

function drawLanes(entries) {
  const lanes = [...new Set(entries.map(laneOf))];
  if (entries.length === 0) { $('#lanes').innerHTML = ''; return; }
  const t = entries.map((e) => Date.parse(e.at));
  const t0 = Math.min(...t), span = Math.max(1, Math.max(...t) - t0);
  const W = 760, left = 150, H = 30 * lanes.length + 30;
  const x = (ms) => left + ((ms - t0) / span) * (W - left - 20);
  let svg = '<svg id="lanes-svg" width="' + W + '" height="' + H + '" role="img" aria-label="timeline lanes">';
  lanes.forEach((lane, i) => {
    const y = 20 + i * 30;
    svg += '<line x1="' + left + '" x2="' + (W - 10) + '" y1="' + y + '" y2="' + y + '" stroke="#d0d4dc"/><text x="4" y="' + (y + 4) + '">' + esc(lane) + '</text>';
  });
  const colour = { handled: '#2e9e5b', duplicate: '#5b7fd6', retried: '#d6a21e', 'dead-lettered': '#d64545' };
  for (const e of entries) {
    const cx = x(Date.parse(e.at)), cy = 20 + lanes.indexOf(laneOf(e)) * 30;
    const tip = '<title>' + esc(e.kind + ' ' + (e.eventType || '') + ' ' + (e.outcome || '') + ' ' + e.at) + '</title>';
    if (e.kind === 'event') svg += '<circle class="mark event" cx="' + cx + '" cy="' + cy + '" r="6" fill="#1d2330">' + tip + '</circle>';
    else if (e.kind === 'attempt') svg += '<rect class="mark attempt" x="' + (cx - 5) + '" y="' + (cy - 8) + '" width="10" height="16" fill="' + (colour[e.outcome] || '#888') + '">' + tip + '</rect>';
    else if (e.kind === 'dead-letter') svg += '<path class="mark dead-letter" d="M' + cx + ' ' + (cy - 9) + 'l9 9l-9 9l-9-9z" fill="#d64545">' + tip + '</path>';
    else svg += '<path class="mark redrive" d="M' + (cx - 8) + ' ' + (cy - 7) + 'l16 7l-16 7z" fill="#5b7fd6">' + tip + '</path>';
  }
  $('#lanes').innerHTML = svg + '</svg>';
}

async function loadTimeline() {
  if (!selected) return;
  const t = await api('/orders/' + encodeURIComponent(selected) + '/timeline');
  $('#timeline-order').textContent = t.orderId;
  $('#timeline-status').innerHTML = badge(t.status) + ' ' + badge(t.paymentStatus) + ' <span class="muted">' + t.entries.length + ' entries</span>';
  drawLanes(t.entries);
  $('#timeline tbody').innerHTML = t.entries.map((e) =>
    '<tr class="entry ' + esc(e.kind) + '"><td>' + time(e.at) + '</td><td>' + esc(laneOf(e)) + '</td><td>' + what(e) + '</td><td class="wrap">' + detail(e) + '</td></tr>').join('');
}

async function loadOps() {
  $('#token-state').textContent = token ? 'token set' : 'no token';
  if (!token) return;
  try {
    const [dlq, lag, outbox] = await Promise.all([api('/ops/dlq'), api('/ops/lag'), api('/ops/outbox/parked')]);
    $('#dlq').innerHTML = dlq.map((f) => '<h3 class="dlq-function" data-function="' + esc(f.functionId) + '">' + esc(f.functionId) + ' <span class="badge">' + f.count + '</span> <span class="muted">' + f.pending + ' not redriven</span></h3>' +
      (f.entries.length === 0 ? '' : '<table><tbody>' + f.entries.map((e) => '<tr class="dlq-entry" data-function="' + esc(f.functionId) + '" data-entry="' + esc(e.entry) + '"><td>' + esc(e.entry) + '</td><td>' + esc(e.key) + '</td><td>' + esc(e.eventType) +
        '</td><td class="wrap">' + esc(e.reason) + '</td><td>' + (e.redriven ? badge('redriven') : '<button class="redrive" type="button">Redrive</button>') + ' <button class="show" type="button">Show</button></td></tr>').join('') + '</tbody></table>')).join('');
    for (const row of document.querySelectorAll('tr.dlq-entry')) {
      const fn = row.dataset.function, entry = row.dataset.entry;
      row.querySelector('button.show').onclick = async () => { const d = await api('/ops/dlq/' + fn + '/' + entry); $('#dlq-detail').hidden = false; $('#dlq-detail').textContent = JSON.stringify({ headers: d.headers, payload: d.payload }, null, 2); };
      const button = row.querySelector('button.redrive');
      if (button) button.onclick = async () => { button.disabled = true; await api('/ops/dlq/' + fn + '/redrive', { method: 'POST', body: JSON.stringify({ entries: [entry] }) }); await loadOps(); };
    }
    $('#lag').innerHTML = '<table><thead><tr><th>Group</th><th>Partition</th><th>Committed</th><th>End</th><th>Lag</th></tr></thead><tbody>' + lag.flatMap((g) => g.partitions.map((p) =>
      '<tr><td>' + esc(g.groupId) + '</td><td>' + esc(p.topic) + '[' + p.partition + ']</td><td>' + esc(p.committed) + '</td><td>' + esc(p.end) + '</td><td>' + p.lag + '</td></tr>')).join('') + '</tbody></table>';
    $('#outbox').innerHTML = '<table><thead><tr><th>Service</th><th>Outbox backlog</th><th>Parked</th></tr></thead><tbody>' + outbox.map((s) => '<tr><td>' + esc(s.service) + '</td><td>' + s.pending + '</td><td>' + s.parked + '</td></tr>').join('') + '</tbody></table>';
  } catch (error) {
    $('#dlq').innerHTML = '<p class="muted">' + esc(error.message) + ' (is the token right? is /ops reachable here?)</p>';
  }
}

$('#token').value = token;
$('#token-form').onsubmit = (event) => { event.preventDefault(); token = $('#token').value.trim(); sessionStorage.setItem('opsToken', token); loadOps(); };
$('#status-filter').onchange = loadOrders;
$('#refresh').onclick = () => { loadOrders(); loadTimeline(); loadOps(); };
// Orders and the timeline every 2 s; dead letters and lag (each read of a topic joins a throw-away group) every 10 s.
const tick = () => Promise.allSettled([loadOrders(), loadTimeline()]);
tick();
loadOps();
setInterval(tick, 2000);
setInterval(loadOps, 10000);
`;
