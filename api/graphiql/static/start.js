// Starts GraphiQL (with the explorer plugin) on this page, against this server's /graphql
// over HTTP and graphql-transport-ws. Headers typed in the Headers tab are kept by GraphiQL
// in this browser's storage.

const DEFAULT_QUERY = `# The signed-in member. Paste {"Authorization": "Bearer <token>"} into Headers below
# (make run prints a member token), then run with Ctrl-Enter or the play button.
query Me {
  me {
    externalId
    displayName
    tier
    points {
      balance
      held
      available
    }
  }
}
`;

const url = new URL("/graphql", window.location.href).toString();
const subscriptionUrl = url.replace(/^http/, "ws");
const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl });
const explorer = GraphiQLPluginExplorer.explorerPlugin();

function App() {
  return React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    inputValueDeprecation: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
