// The browser side: hash routing, API calls with blocking queries so open pages stay live,
// and the KV forms. Rendering lives in render.js.
import * as render from "./render.js";

const view = document.getElementById("view");
const errorBox = document.getElementById("error");
/** Cancels the current page's requests when the route changes. */
let current = new AbortController();

/** GET `path` as JSON; with `index`, a blocking query that returns when the data changes. */
async function get(path, signal, index) {
  const sep = path.includes("?") ? "&" : "?";
  const url = index ? `${path}${sep}index=${index}&wait=60s` : path;
  const response = await fetch(url, { signal });
  if (response.status === 404) return { data: null, index: response.headers.get("X-Consul-Index") };
  if (!response.ok) throw new Error(`${response.status}: ${(await response.text()).trim()}`);
  return { data: await response.json(), index: response.headers.get("X-Consul-Index") };
}

function showError(error) {
  if (error.name === "AbortError") return;
  errorBox.textContent = error.message;
  errorBox.hidden = false;
}

/** Loads `paths`, renders, then re-renders whenever the first path's index moves. */
async function live(paths, draw, signal) {
  let index;
  for (;;) {
    try {
      const [first, ...rest] = await Promise.all(
        paths.map((path, i) => get(path, signal, i === 0 ? index : undefined)),
      );
      if (first.index !== index) {
        const focused = document.activeElement?.name;
        draw(first.data, ...rest.map((r) => r.data));
        if (focused) view.querySelector(`[name="${focused}"]`)?.focus();
        errorBox.hidden = true;
      }
      index = first.index;
    } catch (error) {
      if (signal.aborted) return;
      showError(error);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    if (signal.aborted) return;
  }
}

function filterBox(onInput) {
  const input = document.createElement("input");
  input.className = "filter";
  input.placeholder = "Filter by name";
  input.addEventListener("input", () => onInput(input.value));
  return input;
}

/** A list page with a filter box above the live table. */
function listPage(paths, page, signal) {
  let filter = "";
  let latest = [];
  const table = document.createElement("div");
  const draw = () => { table.innerHTML = page(...latest, filter); };
  view.replaceChildren(filterBox((value) => { filter = value; draw(); }), table);
  live(paths, (...data) => { latest = data.map((d) => d ?? []); draw(); }, signal);
}

function kvPage(path, signal) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  if (path === "" || path.endsWith("/")) {
    live([`/v1/kv/${encoded}?keys&separator=/`], (keys) => {
      view.innerHTML = render.kvListPage(path, keys ?? []);
    }, signal);
  } else {
    live([`/v1/kv/${encoded}`], (entries) => {
      view.innerHTML = entries?.length ? render.kvKeyPage(entries[0]) : "<p class=\"muted\">No such key.</p>";
    }, signal);
  }
}

async function saveKv(form, remove) {
  const key = form.elements.key.value;
  const encoded = key.split("/").map(encodeURIComponent).join("/");
  const cas = form.elements.cas ? `?cas=${form.elements.cas.value}` : "";
  const response = await fetch(`/v1/kv/${encoded}${cas}`, {
    method: remove ? "DELETE" : "PUT",
    body: remove ? undefined : form.elements.value.value,
  });
  const text = (await response.text()).trim();
  if (!response.ok || text === "false") {
    throw new Error(text === "false" ? "The key changed meanwhile: reload and try again." : text);
  }
  location.hash = remove ? `#/kv/${render.parentPrefix(key)}` : `#/kv/${encoded}`;
}

view.addEventListener("submit", (event) => {
  event.preventDefault();
  saveKv(event.target, false).catch(showError);
});
view.addEventListener("click", (event) => {
  if (event.target.dataset.action === "delete") saveKv(event.target.form, true).catch(showError);
});

function route() {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  errorBox.hidden = true;
  const [section, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const name = decodeURIComponent(rest.join("/"));
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.section === (section || "services"));
  }
  switch (section) {
    case "nodes":
      if (name) {
        const n = encodeURIComponent(name);
        live([`/v1/catalog/node/${n}`, `/v1/health/node/${n}`],
          (node, checks) => { view.innerHTML = render.nodePage(name, node, checks ?? []); }, signal);
      } else {
        listPage(["/v1/catalog/nodes", "/v1/health/state/any"], render.nodesPage, signal);
      }
      break;
    case "kv":
      kvPage(rest.map(decodeURIComponent).join("/"), signal);
      break;
    default:
      if (name) {
        live([`/v1/health/service/${encodeURIComponent(name)}`],
          (entries) => { view.innerHTML = render.servicePage(name, entries ?? []); }, signal);
      } else {
        listPage(["/v1/catalog/services", "/v1/health/state/any"],
          (services, checks, filter) => render.servicesPage(Array.isArray(services) ? {} : services, checks, filter),
          signal);
      }
  }
}

fetch("/v1/agent/self")
  .then((r) => r.json())
  .then((self) => { document.getElementById("datacenter").textContent = self.Config.Datacenter; })
  .catch(() => {});
window.addEventListener("hashchange", route);
route();
