// The status page: reads the host's own JSON routes every few seconds and draws them. Every value goes in with
// textContent (never as HTML), so nothing a message or a log entry carries can run here.
"use strict";

const refreshEvery = 2000;
const subscriptionsEvery = 15000;
const actionHeader = "X-EntraSnow-Action";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

function num(value, col) {
  const td = el("td", value, "num");
  if (col) td.dataset.col = col;
  return td;
}

function whenCell(iso) {
  return el("td", when(iso), "when");
}

function when(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, "") : "";
}

// What each part was last drawn from: a part whose data did not change is left alone, so a button is never replaced
// under the operator's pointer and a selection survives the refresh.
const drawnFrom = new Map();

function unchanged(part, data) {
  const key = JSON.stringify(data);
  if (drawnFrom.get(part) === key) return true;
  drawnFrom.set(part, key);
  return false;
}

function fill(tableId, rows, empty) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
  if (rows.length === 0 && empty) {
    const td = el("td", empty, "muted");
    td.colSpan = document.querySelectorAll(`#${tableId} thead th`).length;
    body.appendChild(row([td]));
  }
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

function filterLink(text, field) {
  const a = el("a", text, "filter");
  a.title = `show only ${field} ${text}`;
  a.addEventListener("click", () => {
    document.getElementById(`filter-${field}`).value = text;
    refreshDecisions();
  });
  return a;
}

function drawQueues(queues) {
  if (unchanged("drawQueues", queues)) return;
  fill("queues", queues.map(q => {
    const tr = row([el("td", q.queue), num(q.depth, "depth"), num(q.inFlight, "inFlight"), num(q.scheduled, "scheduled"), num(q.deadLettered, "deadLettered")]);
    tr.dataset.queue = q.queue;
    if (q.deadLettered > 0) tr.lastChild.className += " bad-text";
    return tr;
  }));
}

function drawSync(sync) {
  if (unchanged("drawSync", sync)) return;
  const box = document.getElementById("sync");
  if (!sync) {
    box.replaceChildren(el("p", "No full sync has run yet.", "muted"));
    return;
  }

  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = sync.fraction;
  const head = el("p");
  head.append(el("strong", sync.running ? "Running: " : "Last run: "), filterLink(sync.runId, "run"), ` (${sync.phase})`);
  const counts = u => `created ${u.created}, adopted ${u.adopted}, updated ${u.updated}, unchanged ${u.unchanged}, deactivated ${u.deactivated}, skipped ${u.skipped}, conflicts ${u.conflicts}, failed ${u.failed}`;
  box.replaceChildren(
    head,
    bar,
    el("p", `${Math.round(sync.fraction * 100)} %: users ${sync.usersDone} of ${sync.usersQueued}${sync.groupsDone ? ", groups done" : ""}`),
    el("p", `users: ${counts(sync.users)}`),
    el("p", `groups: ${counts(sync.groups)}`),
    el("p", `started ${when(sync.startedAt)}${sync.completedAt ? `, ended ${when(sync.completedAt)}` : ""}`, "muted"));
  box.dataset.phase = sync.phase;
}

function drawSandbox(sandbox) {
  if (unchanged("drawSandbox", sandbox)) return;
  document.getElementById("mode").textContent = sandbox.graph || sandbox.serviceNow
    ? `sandbox: ${[sandbox.graph ? "Graph" : null, sandbox.serviceNow ? "ServiceNow" : null].filter(Boolean).join(" and ")} emulated`
    : "connected to a real tenant and instance";
  const section = document.getElementById("sandbox-section");
  section.hidden = sandbox.links.length === 0;
  document.getElementById("sandbox-links").replaceChildren(...sandbox.links.map(link => {
    const li = el("li");
    const a = el("a", `${link.emulator}: ${link.title}`);
    a.href = link.path;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    li.append(a, " ", el("code", link.path.split("?")[0], "muted"));
    return li;
  }));
}

function drawHealth(health) {
  if (unchanged("drawHealth", health)) return;
  const badge = document.getElementById("health");
  badge.textContent = health.status;
  badge.className = `badge ${health.status === "healthy" ? "ok" : "bad"}`;
  const paused = new Map(health.paused.map(p => [p.connector, p]));
  fill("connectors", health.connectors.map(c => {
    const state = paused.has(c.name) ? "paused" : c.ok ? "ok" : "not answering";
    const tr = row([el("td", `${c.name}${c.emulated ? " (emulator)" : ""}`), el("td", state, state === "ok" ? "" : "bad-text"), el("td", c.detail)]);
    tr.dataset.connector = c.name;
    return tr;
  }));
  document.getElementById("paused").replaceChildren(...health.paused.map(p =>
    el("p", `${p.connector} is paused since ${when(p.since)}: ${p.reason}. Waiting: ${p.queues.join(", ")}. Next try ${when(p.nextProbe)}. Run \`doctor\` for what to do.`, "warn")));
}

function drawSubscriptions(answer) {
  if (unchanged("drawSubscriptions", answer)) return;
  fill("subscriptions", answer.subscriptions.map(s => row([
    el("td", s.resource), el("td", s.changeType.split(",").join(", ")), whenCell(s.expiresAt),
    num(s.hoursLeft), whenCell(s.renewsFrom),
  ])), answer.error ? "" : "No subscriptions: Graph sends no change notifications (subscription upkeep creates them).");
  document.getElementById("subscriptions-note").textContent = answer.error
    ? `Graph did not list them: ${answer.error}`
    : `checked ${when(answer.checkedAt)}`;
}

function drawDeadLetters(letters) {
  if (unchanged("drawDeadLetters", letters)) return;
  fill("deadletters", letters.map(d => {
    const button = el("button", "Replay");
    button.type = "button";
    button.dataset.replay = d.sequence;
    button.addEventListener("click", () => replay(d.sequence, button));
    const tr = row([el("td", d.sequence), el("td", d.queue), el("td", d.kind), filterCell(d.subjectId), el("td", d.reason, "bad-text"),
      el("td", d.description ?? ""), whenCell(d.deadLetteredAt), wrap(button)]);
    tr.dataset.deadletter = d.sequence;
    return tr;
  }), "No dead letters.");
}

function filterCell(subject) {
  return wrap(filterLink(subject, "user"));
}

function wrap(node) {
  const td = el("td");
  td.appendChild(node);
  return td;
}

async function replay(id, button) {
  button.disabled = true;
  const result = document.getElementById("replay-result");
  try {
    // The custom header is what a page of another site cannot send here (see SameOriginAction).
    const response = await fetch(`/api/local/deadletters/${encodeURIComponent(id)}/replay`, {
      method: "POST",
      headers: { [actionHeader]: "replay", Accept: "application/json" },
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    result.textContent = response.ok ? `Dead letter ${id} is back on its queue.` : `Not replayed: ${body.detail ?? response.status}`;
    result.className = response.ok ? "muted" : "error";
  } catch (error) {
    result.textContent = `Not replayed: ${error.message}`;
    result.className = "error";
  }
  await refresh();
}

function decisionsQuery() {
  const query = new URLSearchParams({ limit: "50" });
  for (const field of ["user", "action", "run"]) {
    const value = document.getElementById(`filter-${field}`).value.trim();
    if (value) query.set(field, value);
  }
  return query;
}

function drawDecisions(entries) {
  if (unchanged("drawDecisions", entries)) return;
  fill("decisions", entries.map(e => {
    const tr = row([whenCell(e.timestamp), el("td", e.action, e.action === "failed" || e.action === "conflict" ? "bad-text" : ""),
      el("td", e.objectKind), filterCell(e.subjectId), el("td", e.changedFields.join(", ")), el("td", e.reason ?? ""), wrap(filterLink(e.run, "run"))]);
    tr.dataset.action = e.action;
    tr.dataset.subject = e.subjectId;
    return tr;
  }), "No decisions match.");
}

async function refreshDecisions() {
  drawDecisions(await getJson(`/api/local/decisions?${decisionsQuery()}`));
}

let lastSubscriptions = 0;

async function refresh() {
  try {
    const [status, health, letters] = await Promise.all([getJson("/api/local/status"), getJson("/api/health"), getJson("/api/local/deadletters")]);
    drawQueues(status.queues);
    drawSync(status.sync);
    drawSandbox(status.sandbox);
    drawHealth(health);
    drawDeadLetters(letters);
    await refreshDecisions();
    if (Date.now() - lastSubscriptions >= subscriptionsEvery) {
      lastSubscriptions = Date.now();
      drawSubscriptions(await getJson("/api/local/subscriptions"));
    }
    document.getElementById("error").hidden = true;
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed ?? 0) + 1);
  } catch (error) {
    const box = document.getElementById("error");
    box.textContent = `The local host did not answer: ${error.message}`;
    box.hidden = false;
  }
}

document.getElementById("filters").addEventListener("input", () => refreshDecisions());
document.getElementById("filters").addEventListener("reset", () => setTimeout(refreshDecisions));
document.getElementById("filters").addEventListener("submit", event => event.preventDefault());
// One refresh at a time: the next starts a moment after the last one ended, however slow the host answers.
(async function loop() {
  await refresh();
  setTimeout(loop, refreshEvery);
})();
