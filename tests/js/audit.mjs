// The GraphQL over HTTP spec's audit (graphql-http's auditServer) against a running server.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql — prints one JSON line per audit.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs URL");
  process.exit(2);
}
const results = await auditServer({ url });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    line.reason = result.reason;
    line.httpStatus = result.response.status;
    line.contentType = result.response.headers.get("content-type");
    line.body = (await result.response.text()).slice(0, 300);
  }
  console.log(JSON.stringify(line));
}
