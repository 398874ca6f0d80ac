export {
  OUTCOMES,
  STATUSES,
  STATUS_LABELS,
  NOTE_MAX,
  REASON_MAX,
  isOutcome,
  type Outcome,
  type LeadStatus,
  type RecordKind,
  type NewInboxLead,
  type InboxLead,
  type InboxDetail,
  type HistoryEntry,
  type OutcomeChange,
} from './record';
export { InboxStore, NotFoundInInbox, LIST_INDEX, type ListQuery, type ListPage } from './store';
export { searchKey, searchText } from './search';
export { inboxNumbers, type InboxNumbers } from './numbers';
export { leadsCsv, csvField, CSV_COLUMNS } from './csv';
