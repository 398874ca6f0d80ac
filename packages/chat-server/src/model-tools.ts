/**
 * What a turn needs only to ask the model, after its first byte: the shop state (luxon's time-zone
 * arithmetic) and the intake tools (their drop-off times, luxon again). The responder reaches this
 * module through `import()`, so a cold start compiles and runs none of it before the first byte;
 * the chat's bundle puts luxon in a file of its own (services/chat/esbuild-plugins.cjs).
 */
export { computeShopState } from '@lead-intake/shop';
export { INTAKE_TOOLS, runTool, toolEvents } from './intake/tools';
