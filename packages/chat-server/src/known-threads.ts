/**
 * Threads this instance has seen to be a user's and active, newest last, bounded. A thread's owner
 * never changes, so a hit lets a turn write the user's message while its thread is still being
 * read (one DynamoDB round trip before the first event instead of two). The read still runs and
 * still decides: if it finds the thread gone or not writable, the early write is undone.
 */
export class KnownThreads {
  private readonly owners = new Map<string, string>();
  constructor(private readonly max = 1000) {}

  isOwner(threadId: string, user: string): boolean {
    return this.owners.get(threadId) === user;
  }

  remember(threadId: string, user: string): void {
    this.owners.delete(threadId);
    this.owners.set(threadId, user);
    if (this.owners.size > this.max) this.owners.delete(this.owners.keys().next().value!);
  }

  forget(threadId: string): void {
    this.owners.delete(threadId);
  }
}
