// GraphQL over HTTP to /graphql with the session's token, sending the console's own
// operations (operations.graphql: the same text as tests/clients/console.graphql).

import { signOut, token } from "./session.js";

const ENDPOINT = "/graphql";
let documents = null;

/** A top-level error of the API (code from extensions), or a network failure ("network"). */
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Each operation of the file with the fragments it spreads. The file's layout is kept
 * simple on purpose: a definition starts at a line beginning with its keyword and ends at
 * the first line that is a lone "}" (a unit test holds the file to it).
 */
export function splitDocument(text) {
  const definitions = new Map();
  let name = null;
  let lines = [];
  for (const line of text.split("\n")) {
    const start = /^(query|mutation|subscription|fragment) (\w+)/.exec(line);
    if (start && name === null) {
      name = start[2];
      lines = [];
    }
    if (name !== null) lines.push(line);
    if (name !== null && line === "}") {
      definitions.set(name, lines.join("\n"));
      name = null;
    }
  }
  return definitions;
}

function withFragments(definitions, body) {
  const needed = new Set();
  const pending = [body];
  while (pending.length) {
    for (const match of pending.pop().matchAll(/\.\.\.(\w+)/g)) {
      if (!needed.has(match[1]) && definitions.has(match[1])) {
        needed.add(match[1]);
        pending.push(definitions.get(match[1]));
      }
    }
  }
  return [body, ...[...needed].map((fragment) => definitions.get(fragment))].join("\n\n");
}

async function loadDocuments() {
  if (!documents) {
    documents = (async () => {
      const url = new URL("./operations.graphql", import.meta.url);
      const response = await fetch(url, { credentials: "same-origin", mode: "cors" });
      return splitDocument(await response.text());
    })();
  }
  return documents;
}

/** The text of one named operation, with its fragments. */
export async function documentOf(name) {
  const definitions = await loadDocuments();
  if (!definitions.has(name)) throw new Error(`no console operation ${name}`);
  return withFragments(definitions, definitions.get(name));
}

/** Run an operation; its data, or ApiError. UNAUTHENTICATED signs the tab out. */
export async function call(name, variables = {}) {
  const query = await documentOf(name);
  let body;
  try {
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify({ query, variables, operationName: name }),
    });
    body = await response.json();
  } catch (error) {
    throw new ApiError("network", String(error));
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? "INTERNAL_SERVER_ERROR";
    if (code === "UNAUTHENTICATED") signOut("expired");
    throw new ApiError(code, first.message);
  }
  return body.data;
}
