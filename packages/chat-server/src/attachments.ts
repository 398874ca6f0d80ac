import {
  checkNewAttachment,
  isImage,
  matchesType,
  objectKey,
  SIGNATURE_BYTES,
  typeLabel,
  type AttachmentLimits,
  type FileStore,
} from '@lead-intake/attachments';
import {
  InvalidRequestError,
  NotSupportedError,
  type Attachment,
  type ThreadItem,
  type UploadDescriptor,
} from '@lead-intake/chatkit-protocol';
import type { ChatStore, StoredAttachment } from '@lead-intake/thread-store';

export interface AttachmentDeps {
  files: FileStore;
  limits: AttachmentLimits;
}

/**
 * Photos and files in the self-hosted chat (the official server's two-phase upload):
 * `attachments.create` checks the limits and answers the attachment with a presigned PUT for the
 * browser; a message may then name it once its bytes are in S3; `attachments.delete` removes an
 * unsent one. Attachments belong to the user who created them (anyone else's is not found). URLs
 * are never stored: previews and the model's inputs are presigned when read.
 */
export class Attachments {
  constructor(
    private readonly store: ChatStore,
    private readonly deps: AttachmentDeps | undefined,
  ) {}

  private get on(): AttachmentDeps {
    if (!this.deps) throw new NotSupportedError('Attachments are not enabled on this server.');
    return this.deps;
  }

  async create(
    p: { name: string; size: number; mime_type: string },
    user: string,
  ): Promise<Attachment & { upload_descriptor: UploadDescriptor }> {
    const { files, limits } = this.on;
    checkNewAttachment(p, limits); // before any URL is issued
    const id = this.store.generateItemId('attachment');
    const mime = p.mime_type.toLowerCase();
    const name = p.name.trim();
    const attachment: Attachment = isImage(mime)
      ? { id, type: 'image', name, mime_type: mime, preview_url: '' }
      : { id, type: 'file', name, mime_type: mime };
    await this.store.saveAttachment({ attachment, size: p.size, threadId: null }, user);
    const key = objectKey(id);
    const [upload, preview] = await Promise.all([
      files.uploadDescriptor(key, mime, p.size),
      attachment.type === 'image' ? files.readUrl(key) : null,
    ]);
    return { ...attachment, ...(preview ? { preview_url: preview } : {}), upload_descriptor: upload };
  }

  /**
   * Removes an attachment that was never sent: its record first, in one conditional write (a
   * message sending it meanwhile either claimed it first, 409 here, or finds it gone, 404 there),
   * then its object (one a failure leaves behind is deleted by the bucket's rule for unsent files).
   */
  async delete(attachmentId: string, user: string): Promise<void> {
    const { files } = this.on;
    await this.store.deleteAttachment(attachmentId, user, { unsentOnly: true });
    await files.remove(objectKey(attachmentId));
  }

  /**
   * The attachments a message names, checked before anything is written: the user's own, within
   * the count, uploaded (an object in S3), its content what its type says (the first bytes, read
   * with its size in one ranged GET), and not sent in another conversation.
   */
  async resolve(ids: string[], user: string, threadId: string): Promise<StoredAttachment[]> {
    if (!ids.length) return [];
    const { files, limits } = this.on;
    if (ids.length > limits.maxPerMessage)
      throw new InvalidRequestError(`A message may carry at most ${limits.maxPerMessage} attachments.`);
    if (new Set(ids).size !== ids.length) throw new InvalidRequestError('A message names the same attachment twice.');
    return Promise.all(
      ids.map(async (id) => {
        const a = await this.store.loadAttachment(id, user);
        if (a.threadId && a.threadId !== threadId)
          throw new InvalidRequestError(`Attachment ${id} was already sent in another conversation.`);
        const probe = await files.probe(objectKey(id), SIGNATURE_BYTES);
        if (probe === null) throw new InvalidRequestError(`Attachment ${id} was never uploaded; upload it before sending the message.`);
        const mime = a.attachment.mime_type ?? '';
        if (!matchesType(mime, probe.head))
          throw new InvalidRequestError(`Attachment ${id} is not ${typeLabel(mime)}: its content does not match its type.`);
        return a;
      }),
    );
  }

  /** They are part of the conversation now: kept with its retention, and no longer deletable. */
  async attach(list: StoredAttachment[], user: string, threadId: string): Promise<Attachment[]> {
    if (!list.length) return [];
    const { files } = this.on;
    return Promise.all(
      list.map(async (a) => {
        const attachment = { ...a.attachment, thread_id: threadId };
        // Claimed first (one message wins a race for it, a deleted one is gone), then kept in S3.
        await this.store.claimAttachment({ attachment, size: a.size, threadId }, user);
        await files.markAttached(objectKey(a.attachment.id));
        return attachment;
      }),
    );
  }

  /** An item as the client sees it: fresh preview URLs for its images. */
  async present<T extends ThreadItem>(item: T): Promise<T> {
    if (item.type !== 'user_message' || !item.attachments.some((a) => a.type === 'image') || !this.deps) return item;
    const { files } = this.deps;
    const attachments = await Promise.all(
      item.attachments.map(async (a) => (a.type === 'image' ? { ...a, preview_url: await files.readUrl(objectKey(a.id)) } : a)),
    );
    return { ...item, attachments };
  }

  /** Short-lived URLs of a message's files for the model (images and PDFs as inputs). */
  async modelUrls(attachments: Attachment[]): Promise<Map<string, string>> {
    if (!attachments.length || !this.deps) return new Map();
    const { files } = this.deps;
    return new Map(await Promise.all(attachments.map(async (a) => [a.id, await files.readUrl(objectKey(a.id))] as const)));
  }
}
