// A bundle's import in a fresh process: prints when Node's own start ended (this script's first
// line) and when the bundle had loaded, both from the process's time origin. No argument: an empty
// process (the floor the bundles are measured against).
const started = performance.now();
// What the Lambda runtime defines before it loads a response-streaming handler (the chat's).
globalThis.awslambda = { streamifyResponse: (fn) => fn, HttpResponseStream: { from: (stream) => stream } };
if (process.argv[2]) require(process.argv[2]);
process.stdout.write(JSON.stringify({ startedMs: started, loadedMs: performance.now() }));
