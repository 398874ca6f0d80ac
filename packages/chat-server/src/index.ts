export { ChatKitServer, KnownThreads, ProtocolError, threadResponse, toModelInput, STREAMING_TYPES, JSON_TYPES, type ChatEvent, type Sink, type ChatServerDeps } from './server';
export { assistantInstructions, ASSISTANT_INSTRUCTIONS_VERSION } from './instructions';
