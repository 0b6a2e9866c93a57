// Pure view functions: data from the HTTP API in, HTML text out. No DOM access here, so
// `node --test runtime-smol/ui/tests` can check them without a browser.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to place inside HTML elements and attribute values. */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A path segment for a hash link (names may hold any character). */
export function link(text, href) {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

const RANK = { passing: 0, warning: 1, critical: 2, maintenance: 2 };

/** The worst status among `checks` ("passing" when there are none). */
export function worstStatus(checks) {
  let worst = "passing";
  for (const check of checks) {
    if ((RANK[check.Status] ?? 2) > RANK[worst]) worst = check.Status in RANK ? check.Status : "critical";
  }
  return worst;
}

/** Counts of passing / warning / critical checks. */
export function countStatuses(checks) {
  const counts = { passing: 0, warning: 0, critical: 0 };
  for (const check of checks) {
    const status = check.Status === "maintenance" ? "critical" : check.Status;
    if (status in counts) counts[status] += 1;
  }
  return counts;
}

function statusCell(status) {
  return `<span class="status ${escapeHtml(status)}">${escapeHtml(status)}</span>`;
}

function countsCell(counts) {
  const parts = [];
  for (const status of ["passing", "warning", "critical"]) {
    if (counts[status] > 0) {
      parts.push(`<span class="status ${status}">${counts[status]} ${status}</span>`);
    }
  }
  return parts.length ? parts.join(" ") : '<span class="muted">no checks</span>';
}

function tags(list) {
  return (list ?? []).map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join("");
}

function table(headers, rows, empty) {
  if (rows.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

/** Checks grouped by a key function, e.g. by service name or node. */
export function groupChecks(checks, key) {
  const groups = new Map();
  for (const check of checks) {
    const k = key(check);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(check);
  }
  return groups;
}

/** `/v1/catalog/services` (name → tags) with `/v1/health/state/any` for the counts. */
export function servicesPage(services, checks, filter = "") {
  const byService = groupChecks(checks.filter((c) => c.ServiceName), (c) => c.ServiceName);
  const needle = filter.toLowerCase();
  const rows = Object.keys(services)
    .sort()
    .filter((name) => name.toLowerCase().includes(needle))
    .map((name) => [
      link(name, `#/services/${encodeURIComponent(name)}`),
      countsCell(countStatuses(byService.get(name) ?? [])),
      tags(services[name]),
    ]);
  return `<h1>Services <span class="muted">${Object.keys(services).length}</span></h1>` +
    table(["Service", "Health checks", "Tags"], rows, "No services registered.");
}

/** `/v1/health/service/<name>`: one row per instance with its node and checks. */
export function servicePage(name, entries) {
  const rows = entries.map((entry) => {
    const address = entry.Service.Address || entry.Node.Address;
    return [
      escapeHtml(entry.Service.ID),
      link(entry.Node.Node, `#/nodes/${encodeURIComponent(entry.Node.Node)}`),
      escapeHtml(`${address}:${entry.Service.Port}`),
      statusCell(worstStatus(entry.Checks)),
      tags(entry.Service.Tags),
    ];
  });
  const checks = entries.flatMap((entry) => entry.Checks.map((c) => ({ ...c, Node: entry.Node.Node })));
  return `<h1>${escapeHtml(name)}</h1>` +
    `<h2>Instances</h2>` +
    table(["ID", "Node", "Address", "Health", "Tags"], rows, "No instances.") +
    `<h2>Health checks</h2>` + checksTable(checks);
}

function checksTable(checks) {
  const rows = checks.map((check) => [
    escapeHtml(check.Node),
    escapeHtml(check.Name || check.CheckID),
    escapeHtml(check.ServiceName || ""),
    statusCell(check.Status),
    `<pre>${escapeHtml(check.Output || "")}</pre>`,
  ]);
  return table(["Node", "Check", "Service", "Status", "Output"], rows, "No health checks.");
}

/** `/v1/catalog/nodes` with `/v1/health/state/any` for each node's health. */
export function nodesPage(nodes, checks, filter = "") {
  const byNode = groupChecks(checks, (c) => c.Node);
  const needle = filter.toLowerCase();
  const rows = nodes
    .filter((node) => node.Node.toLowerCase().includes(needle))
    .map((node) => [
      link(node.Node, `#/nodes/${encodeURIComponent(node.Node)}`),
      escapeHtml(node.Address),
      countsCell(countStatuses(byNode.get(node.Node) ?? [])),
    ]);
  return `<h1>Nodes <span class="muted">${nodes.length}</span></h1>` +
    table(["Node", "Address", "Health checks"], rows, "No nodes registered.");
}

/** `/v1/catalog/node/<name>` (null for an unknown node) with `/v1/health/node/<name>`. */
export function nodePage(name, node, checks) {
  if (!node) return `<h1>${escapeHtml(name)}</h1><p class="muted">No such node.</p>`;
  const services = Object.values(node.Services ?? {}).sort((a, b) => a.ID.localeCompare(b.ID));
  const rows = services.map((s) => [
    link(s.Service, `#/services/${encodeURIComponent(s.Service)}`),
    escapeHtml(s.ID),
    escapeHtml(s.Port),
    tags(s.Tags),
  ]);
  return `<h1>${escapeHtml(node.Node.Node)} <span class="muted">${escapeHtml(node.Node.Address)}</span></h1>` +
    `<h2>Services</h2>` + table(["Service", "ID", "Port", "Tags"], rows, "No services on this node.") +
    `<h2>Health checks</h2>` + checksTable(checks);
}

/** The parent folder of a KV prefix ("a/b/" → "a/", "a/" → ""). */
export function parentPrefix(prefix) {
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const cut = trimmed.lastIndexOf("/");
  return cut < 0 ? "" : trimmed.slice(0, cut + 1);
}

/** `/v1/kv/<prefix>?keys&separator=/`: folders and keys one level below `prefix`. */
export function kvListPage(prefix, keys) {
  const rows = keys.map((key) => [
    link(key.slice(prefix.length) || key, `#/kv/${key.split("/").map(encodeURIComponent).join("/")}`),
    key.endsWith("/") ? '<span class="muted">folder</span>' : "key",
  ]);
  const up = prefix ? `<p>${link("↑ up", `#/kv/${parentPrefix(prefix)}`)}</p>` : "";
  return `<h1>Key/Value <span class="muted">/${escapeHtml(prefix)}</span></h1>${up}` +
    table(["Name", "Kind"], rows, "No keys here.") +
    `<h2>Create</h2>` + kvForm(prefix, "", true);
}

/** Decodes a KV entry's base64 `Value` (null when empty) as UTF-8 text. */
export function decodeValue(value) {
  if (value == null) return "";
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** One key with its value, flags and indexes, and an edit form. */
export function kvKeyPage(entry) {
  return `<h1>${escapeHtml(entry.Key)}</h1>` +
    `<p>${link("↑ up", `#/kv/${parentPrefix(entry.Key)}`)}</p>` +
    `<p class="muted">Flags ${escapeHtml(entry.Flags)} · CreateIndex ${escapeHtml(entry.CreateIndex)} · ` +
    `ModifyIndex ${escapeHtml(entry.ModifyIndex)}${entry.Session ? ` · Session ${escapeHtml(entry.Session)}` : ""}</p>` +
    kvForm(entry.Key, decodeValue(entry.Value), false, entry.ModifyIndex);
}

function kvForm(key, value, creating, modifyIndex) {
  const keyField = creating
    ? `<label>Key <input type="text" name="key" value="${escapeHtml(key)}" required></label>`
    : `<input type="hidden" name="key" value="${escapeHtml(key)}">`;
  const cas = modifyIndex === undefined ? "" : `<input type="hidden" name="cas" value="${escapeHtml(modifyIndex)}">`;
  const remove = creating ? "" : '<button type="button" data-action="delete">Delete</button>';
  return `<form class="kv">${keyField}${cas}` +
    `<label>Value<textarea name="value">${escapeHtml(value)}</textarea></label>` +
    `<div class="actions"><button type="submit">${creating ? "Create" : "Save"}</button>${remove}</div></form>`;
}
