export { ChatKitServer } from './server';
export {
  TurnRefused,
  threadResponse,
  type ChatAnswer,
  type ChatServerDeps,
  type RequestContext,
  type TurnGate,
  type GateVerdict,
} from './context';
export { ResponsesResponder, ModelStreamError, type Responder, type ResponsesResponderDeps, type TurnInput } from './responder';
export { KnownThreads } from './known-threads';
export { toModelInput, type ModelMessage, type ModelPart } from './model-input';
export { Attachments, type AttachmentDeps } from './attachments';
export { assistantInstructions, ASSISTANT_INSTRUCTIONS_VERSION, type VisitContext } from './instructions';
