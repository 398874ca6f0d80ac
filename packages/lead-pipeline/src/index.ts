export { parseLeadRequest, leadRequest, LEAD_REASONS, THREAD_ID, type LeadRequest, type LeadReason, type LeadRequestContext } from './request';
export { evaluateLead, previewLead, decide, transcriptState, ANSWER_REASONS, type AnswerReason, type LeadAnswer, type Evaluation, type EvaluateDeps, type SummaryResult } from './pipeline';
export { processLead, type ProcessDeps, type ProcessHooks } from './process';
