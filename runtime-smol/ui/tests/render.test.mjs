// Run with `node --test runtime-smol/ui/tests` (CI does).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as render from "../render.js";

test("escapeHtml neutralises markup in names", () => {
  assert.equal(render.escapeHtml(`<img src=x onerror="a">&'`), "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;");
});

test("worstStatus ranks critical over warning over passing", () => {
  assert.equal(render.worstStatus([]), "passing");
  assert.equal(render.worstStatus([{ Status: "passing" }, { Status: "warning" }]), "warning");
  assert.equal(render.worstStatus([{ Status: "warning" }, { Status: "critical" }]), "critical");
  assert.equal(render.worstStatus([{ Status: "maintenance" }]), "maintenance");
});

test("services page lists services sorted with their check counts and tags", () => {
  const html = render.servicesPage(
    { web: ["rails"], consul: [] },
    [
      { ServiceName: "web", Status: "passing" },
      { ServiceName: "web", Status: "critical" },
      { ServiceName: "", Node: "n1", Status: "passing" },
    ],
  );
  assert.ok(html.indexOf("consul") < html.indexOf("web"), "sorted by name");
  assert.match(html, /1 passing<\/span> <span class="status critical">1 critical/);
  assert.match(html, /<span class="tag">rails<\/span>/);
  assert.match(html, /href="#\/services\/web"/);
});

test("services filter keeps only matching names", () => {
  const html = render.servicesPage({ web: [], db: [] }, [], "we");
  assert.match(html, /#\/services\/web/);
  assert.doesNotMatch(html, /#\/services\/db/);
});

test("service page shows each instance with its own address or its node's", () => {
  const html = render.servicePage("web", [
    { Node: { Node: "n1", Address: "10.0.0.1" }, Service: { ID: "web1", Port: 80, Address: "", Tags: [] }, Checks: [] },
    { Node: { Node: "n2", Address: "10.0.0.2" }, Service: { ID: "web2", Port: 81, Address: "10.9.9.9", Tags: ["v2"] },
      Checks: [{ CheckID: "c", Name: "http", Status: "critical", Output: "connection refused" }] },
  ]);
  assert.match(html, /10\.0\.0\.1:80/);
  assert.match(html, /10\.9\.9\.9:81/);
  assert.match(html, /status critical">critical/);
  assert.match(html, /connection refused/);
});

test("unknown node page says so", () => {
  assert.match(render.nodePage("ghost", null, []), /No such node/);
});

test("kv list links folders and keys below the prefix, with an up link", () => {
  const html = render.kvListPage("web/", ["web/sub/", "web/key1"]);
  assert.match(html, /href="#\/kv\/web\/sub\/">sub\/</);
  assert.match(html, /href="#\/kv\/web\/key1">key1</);
  assert.match(html, /href="#\/kv\/">↑ up/);
});

test("kv key page decodes the base64 value and carries the cas index", () => {
  const html = render.kvKeyPage({ Key: "web/key2", Value: "dGVzdA==", Flags: 42, CreateIndex: 98, ModifyIndex: 101 });
  assert.match(html, /<textarea name="value">test<\/textarea>/);
  assert.match(html, /name="cas" value="101"/);
  assert.match(html, /Flags 42/);
});

test("parentPrefix walks one folder up", () => {
  assert.equal(render.parentPrefix("a/b/"), "a/");
  assert.equal(render.parentPrefix("a/b"), "a/");
  assert.equal(render.parentPrefix("a/"), "");
  assert.equal(render.parentPrefix("a"), "");
});
