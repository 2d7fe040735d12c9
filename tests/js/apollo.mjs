// Apollo Client 4 with its persisted-queries link, and plain fetch by documentId, against a
// running server. Usage: node apollo.mjs URL MANIFEST [TOKEN] — prints one JSON object:
// each scenario's answer and the requests it took (method, parameters, status).
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, manifestPath, token] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const written = (name) =>
  Object.entries(manifest).find(
    ([, text]) => text.startsWith(`query ${name}`) && !text.includes("__typename"),
  );
const headers = token ? { authorization: `Bearer ${token}` } : {};
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function recorder() {
  const sent = [];
  const fetchFn = async (uri, options) => {
    const target = new URL(String(uri));
    const params = options.body
      ? JSON.parse(options.body)
      : Object.fromEntries(target.searchParams.entries());
    const response = await fetch(uri, options);
    sent.push({ method: options.method ?? "GET", params, status: response.status });
    return response;
  };
  return { sent, fetchFn };
}

function apollo(fetchFn, get = false) {
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: get }).concat(
    new HttpLink({ uri: url, fetch: fetchFn, headers }),
  );
  return new ApolloClient({ cache: new InMemoryCache(), link });
}

async function run(client, query, variables) {
  try {
    const result = await client.query({ query: gql(query), variables, fetchPolicy: "network-only" });
    return { data: result.data ?? null, error: result.error ? String(result.error) : null };
  } catch (error) {
    return { data: null, error: String(error), codes: (error.errors ?? []).map((e) => e.extensions?.code) };
  }
}

const out = {};
{
  const { sent, fetchFn } = recorder();
  const client = apollo(fetchFn);
  out.trusted = await run(client, written("Catalog")[1], { first: 2 });
  out.trusted.sent = sent.splice(0);
  const adhoc = "query Adhoc { categories { slug } }";
  out.adhoc = await run(client, adhoc, {});
  out.adhoc.sent = sent.splice(0);
  out.adhocAgain = await run(client, adhoc, {});
  out.adhocAgain.sent = sent.splice(0);
}
{
  const { sent, fetchFn } = recorder();
  out.get = await run(apollo(fetchFn, true), written("Catalog")[1], { first: 2 });
  out.get.sent = sent;
}
{
  const [id] = written("Catalog");
  const post = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: JSON.stringify({ documentId: id, variables: { first: 2 } }),
  });
  out.fetchPost = { status: post.status, type: post.headers.get("content-type"), body: await post.json() };
  const query = new URLSearchParams({ documentId: id, variables: JSON.stringify({ first: 2 }) });
  const got = await fetch(`${url}?${query}`, { headers });
  out.fetchGet = { status: got.status, cache: got.headers.get("cache-control"), etag: got.headers.get("etag"), body: await got.json() };
}
console.log(JSON.stringify(out));
