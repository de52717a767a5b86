// A minimal VS Code extension: start `charter lsp` over stdio for the YAML files of a Charter project.
// `npx @vscode/vsce package` in editors/vscode bundles it (esbuild, with vscode-languageclient) into dist/extension.js.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("charter").get("command");
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "charter",
    "Charter",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "yaml" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
