export { startEmulator, type EmulatorOptions, type RunningEmulator } from './server';
export { EmulatorState, type RecordedRequest, type Fault, type QueuedResponse, type Thread, type ThreadItem } from './state';
export { valueForSchema, SchemaError, type JsonSchema } from './schema-value';
export { EmulatorAdmin, type SeedThread, type SeedItem } from './admin-client';
