export { parseLeadRequest, leadRequest, LEAD_REASONS, THREAD_ID, type LeadRequest, type LeadReason, type LeadRequestContext } from './request';
export {
  runLead,
  previewLead,
  readTranscript,
  findContacts,
  decide,
  render,
  transcriptState,
  ANSWER_REASONS,
  type AnswerReason,
  type Decision,
  type Evaluation,
  type LeadAnswer,
  type LeadHooks,
  type LeadJob,
  type LeadPorts,
  type SummaryResult,
} from './lead';
