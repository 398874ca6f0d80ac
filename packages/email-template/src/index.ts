export {
  renderLeadEmail,
  buildSubject,
  subjectPrefix,
  esc,
  oneLine,
  formatPhone,
  SUBJECT_MAX,
  type LeadEmailInput,
  type LeadFlags,
  type RenderedEmail,
} from './render';
export { sampleLead } from './sample';
