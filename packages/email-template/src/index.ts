export {
  renderLeadEmail,
  buildSubject,
  subjectPrefix,
  esc,
  oneLine,
  SUBJECT_MAX,
  type LeadEmailInput,
  type LeadFlags,
  type RenderedEmail,
} from './render';
export { sampleLead } from './sample';
