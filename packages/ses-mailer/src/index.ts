export { buildMime, encodeHeader, assertAddresses, InvalidAddressError, type OutgoingEmail } from './mime';
export { sendEmail, sesClient, EmailSendError } from './send';
